// libext2fs io_manager over a BlockDevice (see ext_io_manager.h). Block
// numbers are in units of the channel's block size (set by libext2fs with
// set_blksize); a negative count is a byte count.
#include "fs/ext_io_manager.h"

#include <ext2fs/ext2fs.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace cairn::fs {
namespace {

std::mutex registry_mu;
std::map<std::string, std::weak_ptr<ExtDevice>>& Registry() {
  static auto* registry = new std::map<std::string, std::weak_ptr<ExtDevice>>();
  return *registry;
}
uint64_t next_id = 0;  // guarded by registry_mu

struct Channel {
  std::shared_ptr<ExtDevice> dev;
};

ExtDevice& DeviceOf(io_channel channel) {
  return *static_cast<Channel*>(channel->private_data)->dev;
}

// The byte range of `count` blocks at `block` (count < 0: -count bytes).
void Range(io_channel channel, unsigned long long block, int count, uint64_t* offset,
           uint64_t* length) {
  *offset = block * static_cast<uint64_t>(channel->block_size);
  *length = count < 0 ? static_cast<uint64_t>(-static_cast<int64_t>(count))
                      : static_cast<uint64_t>(count) * channel->block_size;
}

errcode_t Open(const char* name, int flags, io_channel* out) {
  if (flags & IO_FLAG_RW) return EROFS;
  std::shared_ptr<ExtDevice> dev;
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    auto it = Registry().find(name);
    if (it != Registry().end()) dev = it->second.lock();
  }
  if (!dev) return ENOENT;
  io_channel channel = nullptr;
  errcode_t err = ext2fs_get_mem(sizeof(struct struct_io_channel), &channel);
  if (err) return err;
  std::memset(channel, 0, sizeof(struct struct_io_channel));
  err = ext2fs_get_mem(std::strlen(name) + 1, &channel->name);
  if (err) {
    ext2fs_free_mem(&channel);
    return err;
  }
  std::strcpy(channel->name, name);
  channel->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  channel->manager = CairnIoManager();
  channel->block_size = 1024;
  channel->refcount = 1;
  channel->flags = flags;
  channel->private_data = new Channel{std::move(dev)};
  *out = channel;
  return 0;
}

errcode_t Close(io_channel channel) {
  if (--channel->refcount > 0) return 0;
  delete static_cast<Channel*>(channel->private_data);
  ext2fs_free_mem(&channel->name);
  ext2fs_free_mem(&channel);
  return 0;
}

errcode_t SetBlksize(io_channel channel, int blksize) {
  channel->block_size = blksize;
  return 0;
}

errcode_t ReadBlk64(io_channel channel, unsigned long long block, int count, void* data) {
  ExtDevice& dev = DeviceOf(channel);
  uint64_t offset = 0, length = 0;
  Range(channel, block, count, &offset, &length);
  const uint64_t size = dev.device->Size();
  // libext2fs may read past the end (the last group's bitmaps of a device
  // smaller than the filesystem claims): short reads are zero-filled.
  uint64_t have = offset >= size ? 0 : std::min(length, size - offset);
  auto* bytes = static_cast<std::byte*>(data);
  if (have > 0) {
    Status s = dev.device->Read(offset, MutableByteSpan(bytes, have));
    if (!s.ok()) {
      dev.last_error = s;
      std::memset(data, 0, length);
      if (channel->read_error) {
        return channel->read_error(channel, block, count, data, length, 0, EXT2_ET_SHORT_READ);
      }
      return EXT2_ET_SHORT_READ;
    }
    dev.bytes_read += have;
  }
  if (have < length) std::memset(bytes + have, 0, length - have);
  return 0;
}

errcode_t ReadBlk(io_channel channel, unsigned long block, int count, void* data) {
  return ReadBlk64(channel, block, count, data);
}

errcode_t WriteBlk64(io_channel, unsigned long long, int, const void*) { return EROFS; }
errcode_t WriteBlk(io_channel, unsigned long, int, const void*) { return EROFS; }
errcode_t WriteByte(io_channel, unsigned long, int, const void*) { return EROFS; }
errcode_t Flush(io_channel) { return 0; }
errcode_t SetOption(io_channel, const char*, const char*) { return EXT2_ET_INVALID_ARGUMENT; }
errcode_t Discard(io_channel, unsigned long long, unsigned long long) { return EROFS; }
errcode_t Zeroout(io_channel, unsigned long long, unsigned long long) { return EROFS; }
errcode_t CacheReadahead(io_channel, unsigned long long, unsigned long long) { return 0; }

struct_io_manager MakeManager() {
  struct_io_manager m;
  std::memset(&m, 0, sizeof(m));
  m.magic = EXT2_ET_MAGIC_IO_MANAGER;
  m.name = "cairn BlockDevice I/O manager";
  m.open = Open;
  m.close = Close;
  m.set_blksize = SetBlksize;
  m.read_blk = ReadBlk;
  m.write_blk = WriteBlk;
  m.flush = Flush;
  m.write_byte = WriteByte;
  m.set_option = SetOption;
  m.read_blk64 = ReadBlk64;
  m.write_blk64 = WriteBlk64;
  m.discard = Discard;
  m.cache_readahead = CacheReadahead;
  m.zeroout = Zeroout;
  return m;
}

}  // namespace

struct_io_manager* CairnIoManager() {
  static struct_io_manager manager = MakeManager();
  return &manager;
}

std::string RegisterExtDevice(std::shared_ptr<ExtDevice> dev) {
  std::lock_guard<std::mutex> lock(registry_mu);
  std::string name = "cairn-device-" + std::to_string(next_id++);
  Registry()[name] = dev;
  return name;
}

void UnregisterExtDevice(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mu);
  Registry().erase(name);
}

}  // namespace cairn::fs
