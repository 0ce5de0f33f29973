// Registration of every command. Each cmd_*.cc defines one (or, for the
// small key verbs, a few) of these: it adds its CLI11 subcommand to the
// given parent, with its flags, help and validation, and a callback that
// hands its run function to Context::SetAction.
#ifndef CAIRN_CLI_COMMANDS_H_
#define CAIRN_CLI_COMMANDS_H_

namespace CLI {
class App;
}  // namespace CLI

namespace cairn::cli {

class Context;

// cairn repo ...
void RegisterRepoInit(CLI::App& repo, Context& ctx);
void RegisterRepoCheck(CLI::App& repo, Context& ctx);
void RegisterRepoGc(CLI::App& repo, Context& ctx);
void RegisterRepoStats(CLI::App& repo, Context& ctx);
void RegisterRepoUnlock(CLI::App& repo, Context& ctx);
void RegisterRepoRebuildIndex(CLI::App& repo, Context& ctx);
void RegisterRepoSet(CLI::App& repo, Context& ctx);  // --recycle-days

// cairn key ... (list, add, remove, passwd)
void RegisterKeyCommands(CLI::App& key, Context& ctx);

// cairn snapshot ...
void RegisterSnapshotCreate(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotList(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotShow(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotRestore(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotDelete(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotUndelete(CLI::App& snapshot, Context& ctx);  // recycle bin
void RegisterSnapshotForget(CLI::App& snapshot, Context& ctx);    // retention
void RegisterSnapshotDiff(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotCopy(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotExport(CLI::App& snapshot, Context& ctx);  // tar of the files
void RegisterSnapshotLs(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotCat(CLI::App& snapshot, Context& ctx);
void RegisterSnapshotPartitions(CLI::App& snapshot, Context& ctx);

// cairn backup SOURCE --to URL...
void RegisterBackup(CLI::App& app, Context& ctx);
// cairn drill SNAP
void RegisterDrill(CLI::App& app, Context& ctx);

// cairn serve (the volume daemon) and cairn volume ... (its client)
void RegisterServe(CLI::App& app, Context& ctx);
void RegisterVolumeCreate(CLI::App& volume, Context& ctx);
void RegisterVolumeList(CLI::App& volume, Context& ctx);  // list, show
void RegisterVolumeDelete(CLI::App& volume, Context& ctx);
void RegisterVolumeResize(CLI::App& volume, Context& ctx);
void RegisterVolumeModify(CLI::App& volume, Context& ctx);
void RegisterVolumeAttach(CLI::App& volume, Context& ctx);  // attach, detach
void RegisterVolumeCheck(CLI::App& volume, Context& ctx);

// cairn policy ... (the daemon's lifecycle policies) and cairn events
void RegisterPolicyCreate(CLI::App& policy, Context& ctx);
void RegisterPolicyCommands(CLI::App& policy, Context& ctx);  // list, show, delete, run
void RegisterPolicyModify(CLI::App& policy, Context& ctx);    // modify, enable, disable
void RegisterEvents(CLI::App& app, Context& ctx);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_COMMANDS_H_
