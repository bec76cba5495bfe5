// What `fastgpu` says when its command line is wrong: the help of a command group typed
// without a subcommand, and "did you mean" for a mistyped subcommand or flag, the way
// kubectl and git do. Used by main only; not thread-safe (reads the parsed CLI11 tree).
#pragma once

#include <CLI/CLI.hpp>

namespace fastgpu::main {

// Handles a parse error of `root` on argv: prints the message (and a suggestion or the
// group's help) and returns the exit code: 0 after printing a group's help, else 2.
int ReportParseError(CLI::App& root, int argc, char** argv, const CLI::ParseError& error);

}  // namespace fastgpu::main
