#include "service/drill_export.h"

#include "fs/archive_writer.h"
#include "fs/ext_filesystem.h"
#include "fs/tree_export.h"

namespace cairn::service {

Result<DrillExport> ExportFiles(std::shared_ptr<volume::BlockDevice> device,
                                const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<fs::ExtFilesystem> filesystem,
                   fs::ExtFilesystem::Open(std::move(device)));
  ASSIGN_OR_RETURN(std::unique_ptr<fs::ArchiveWriter> writer,
                   fs::ArchiveWriter::Create(path, fs::ArchiveFormat::kTarGz));
  fs::TreeExportOptions options;  // the whole tree
  auto stats = fs::ExportTree(*filesystem, *writer, options);
  if (!stats.ok()) {
    // Not Close()d: the writer leaves no file behind.
    return stats.status().WithContext("exporting the files of " + filesystem->Describe());
  }
  RETURN_IF_ERROR_CTX(writer->Close(), "writing " + path);
  DrillExport out;
  out.files = stats->files;
  out.directories = stats->dirs;
  out.symlinks = stats->symlinks;
  out.file_bytes = stats->bytes;
  out.archive_bytes = writer->archive_bytes();
  return out;
}

}  // namespace cairn::service
