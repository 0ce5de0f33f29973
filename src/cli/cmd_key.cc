// cairn key list | add | remove ID | passwd
//
// Passphrases of an encrypted repository: each key wraps the same master key
// with one passphrase. A new passphrase comes from --new-password-file,
// CAIRN_NEW_PASSWORD, or two prompts. Removing the last key or the key in
// use is refused (exit 8); so is key management on an unencrypted
// repository.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

constexpr char kNewPasswordEnv[] = "CAIRN_NEW_PASSWORD";

Status List(Context& ctx) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(std::vector<repo::KeyInfo> keys, repository->ListKeys());
  if (ctx.json()) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& k : keys) {
      doc.push_back({{"id", k.id}, {"created", k.created}, {"host", k.host},
                     {"user", k.user}, {"current", k.current}});
    }
    ctx.PrintJson(doc);
    return Status::OK();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    rows.push_back({(k.current ? "*" : " ") + k.id, k.created, k.host, k.user});
  }
  ctx.Print(FormatTable({" id", "created", "host", "user"}, rows));
  return Status::OK();
}

Status Add(Context& ctx, const std::string& new_file) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(std::string passphrase, ctx.ReadNewPassphrase(new_file, kNewPasswordEnv));
  ASSIGN_OR_RETURN(std::string id, repository->AddKey(passphrase));
  if (ctx.json()) {
    ctx.PrintJson({{"id", id}});
  } else {
    ctx.Print(id + "\n");
    ctx.Note("added key " + id + "\n");
  }
  return Status::OK();
}

Status Remove(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  RETURN_IF_ERROR(repository->RemoveKey(id));
  if (ctx.json()) {
    ctx.PrintJson({{"removed", id}});
  } else {
    ctx.Note("removed key " + id + "\n");
  }
  return Status::OK();
}

Status Passwd(Context& ctx, const std::string& new_file) {
  ASSIGN_OR_RETURN(auto repository, ctx.OpenRepository());
  ASSIGN_OR_RETURN(std::string passphrase, ctx.ReadNewPassphrase(new_file, kNewPasswordEnv));
  RETURN_IF_ERROR(repository->ChangePassphrase(passphrase));
  if (ctx.json()) {
    ctx.PrintJson({{"changed", true}});
  } else {
    ctx.Note("changed the passphrase\n");
  }
  return Status::OK();
}

// Adds --new-password-file to `cmd`, stored in *file.
void AddNewPasswordFlag(CLI::App* cmd, std::string* file) {
  cmd->add_option("--new-password-file", *file,
                  "Read the new passphrase from the first line of this file "
                  "(else CAIRN_NEW_PASSWORD, else a prompt)");
}

}  // namespace

void RegisterKeyCommands(CLI::App& key, Context& ctx) {
  CLI::App* list = key.add_subcommand("list", "List the keys (* marks the one in use)");
  list->callback([&ctx] { ctx.SetAction([&ctx] { return List(ctx); }); });

  auto add_file = std::make_shared<std::string>();
  CLI::App* add = key.add_subcommand("add", "Add a passphrase (prints the new key id)");
  AddNewPasswordFlag(add, add_file.get());
  add->callback([&ctx, add_file] {
    ctx.SetAction([&ctx, add_file] { return Add(ctx, *add_file); });
  });

  auto id = std::make_shared<std::string>();
  CLI::App* remove = key.add_subcommand("remove", "Remove a key (not the last, not the one in use)");
  remove->add_option("ID", *id, "The key id (see `cairn key list`)")->required();
  remove->callback([&ctx, id] { ctx.SetAction([&ctx, id] { return Remove(ctx, *id); }); });

  auto passwd_file = std::make_shared<std::string>();
  CLI::App* passwd = key.add_subcommand("passwd", "Change the passphrase in use");
  AddNewPasswordFlag(passwd, passwd_file.get());
  passwd->callback([&ctx, passwd_file] {
    ctx.SetAction([&ctx, passwd_file] { return Passwd(ctx, *passwd_file); });
  });
}

}  // namespace cairn::cli
