// `fastgpu store migrate --from DATA_DIR --to postgresql://...`: copies a control plane's
// SQLite state into an empty PostgreSQL database (docs/ha.md).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "main/commands.h"
#include "store/store.h"
#include "store/store_copy.h"

namespace fastgpu::main {
namespace {

struct MigrateFlags {
  std::string from;
  std::string to;
};

int RunMigrate(const MigrateFlags& f) {
  if (!store::IsPostgresUrl(f.to)) {
    std::cerr << "fastgpu store migrate: --to must be a postgresql:// URL (got '"
              << store::RedactStoreUrl(f.to) << "')\n";
    return 2;
  }
  std::error_code ec;
  const std::string path =
      std::filesystem::is_directory(f.from, ec) ? f.from + "/fastgpu.db" : f.from;
  std::cout << "copying " << path << " into " << store::RedactStoreUrl(f.to) << "\n" << std::flush;
  auto copied = store::CopySqliteToPostgres(path, f.to, [](const store::TableCopied& t) {
    std::cout << "  " << t.table << ": " << t.rows << " rows\n" << std::flush;
  });
  if (!copied.ok()) {
    std::cerr << "fastgpu store migrate: " << copied.status()
              << "\nnothing was written to the target database\n";
    return 1;
  }
  int64_t rows = 0;
  for (const store::TableCopied& t : *copied) rows += t.rows;
  std::cout << "done: " << rows << " rows in " << copied->size()
            << " tables. Start the control plane with --store " << store::RedactStoreUrl(f.to)
            << " (keep --data-dir for its token files).\n";
  return 0;
}

}  // namespace

void RegisterStoreCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("store", "Manage the control plane's state store");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<MigrateFlags>();
  auto* migrate = cmd->add_subcommand(
      "migrate",
      "Copy a SQLite state (a data dir or its fastgpu.db) into an empty PostgreSQL database, "
      "all or nothing. Stop the control plane first: writes made during the copy are not "
      "carried over.");
  migrate->add_option("--from", flags->from, "The data dir (or its fastgpu.db file)")->required();
  migrate->add_option("--to", flags->to, "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
      ->required();
  migrate->callback([flags, exit_code] { *exit_code = RunMigrate(*flags); });
}

}  // namespace fastgpu::main
