// `biggan logs`: offline analysis of runs (ours, running or finished, and BigGAN-PyTorch's).
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "analysis/export.h"
#include "analysis/plot.h"
#include "analysis/report.h"
#include "analysis/run_logs.h"
#include "analysis/summary.h"

namespace biggan::cli {

namespace {

namespace fs = std::filesystem;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Where figures and reports go: --output, or for one run a folder inside it.
std::string output_folder(const po::variables_map& vm, const std::vector<analysis::RunLogs>& runs, const char* action,
                          const char* inside_run) {
  if (vm.count("output")) return vm["output"].as<std::string>();
  if (runs.size() == 1) return runs[0].path + "/" + inside_run;
  throw UsageError(std::string("logs ") + action + ": give --output DIR when there is more than one run");
}

// The files a run's logs are read from: the path itself, or the files in its folder and in its
// logs/ folder (ours: logs/metrics.jsonl and the rest; BigGAN-PyTorch's logs/<exp>/*.log).
std::vector<NamedPath> log_files(const std::vector<std::string>& run_paths) {
  std::vector<NamedPath> files;
  for (const auto& run : run_paths) {
    std::error_code error;
    if (!fs::is_directory(run, error)) files.push_back({"the run file", run});
    for (const auto& folder : {fs::path(run), fs::path(run) / "logs"})
      for (auto& file : files_in(folder.string(), "the run file")) files.push_back(std::move(file));
  }
  return files;
}

}  // namespace

int logs_command(const Args& args) {
  CommandSpec spec{"logs", "<summary|compare|export|plot|report> RUN... [options]",
                   "Analyse the logs of finished or running jobs: ours and BigGAN-PyTorch's.",
                   "  summary RUN...            one table: iterations, images, wall/compute time, time lost to\n"
                   "                            restarts, requeues, throughput, best metric, last losses, divergence\n"
                   "  compare RUN...            side by side, aligned by iteration and by images seen\n"
                   "  export --csv RUN...       every metric as tidy CSV (stdout, or --output FILE)\n"
                   "  plot RUN...               PNG and SVG figures with gnuplot (default: RUN/plots)\n"
                   "  report RUN...             one self-contained HTML page (default: RUN/report/report.html)\n"
                   "RUN: a biggan run folder, BigGAN-PyTorch's logs/<experiment>/ folder or its\n"
                   "<experiment>_log.jsonl. A run still being written is read up to its last complete line.\n"};
  po::options_description o("Logs");
  o.add_options()("action", po::value<std::string>(), "summary | compare | export | plot | report")
      ("paths", po::value<std::vector<std::string>>(), "run folders")
      ("csv", "export as CSV (the only export format)")
      ("points", po::value<int>()->default_value(10), "compare: grid points to align the runs at")
      ("output", po::value<std::string>(), "output file (export) or folder (plot, report)");
  po::positional_options_description positional;
  positional.add("action", 1).add("paths", -1);
  const auto vm = parse_command(spec, o, args, &positional);
  if (!vm) return 0;
  if (!vm->count("action")) throw UsageError("logs: an action is required (summary | compare | export | plot | report)");
  const std::string action = (*vm)["action"].as<std::string>();
  if (action != "summary" && action != "compare" && action != "export" && action != "plot" && action != "report")
    throw UsageError("logs: unknown action '" + action + "' (summary | compare | export | plot | report)");
  if (!vm->count("paths")) throw UsageError("logs " + action + ": give at least one run folder");
  std::vector<analysis::RunLogs> runs;
  for (const auto& p : (*vm)["paths"].as<std::vector<std::string>>()) runs.push_back(analysis::read_run(p));
  for (const auto& run : runs)
    for (const auto& note : run.notes) std::cerr << "note: " << note << "\n";
  std::vector<analysis::Summary> summaries;
  for (const auto& run : runs) summaries.push_back(analysis::summarize(run, now_seconds()));

  if (action == "summary") {
    std::cout << analysis::summary_table(summaries);
    return 0;
  }
  if (action == "compare") {
    const int points = (*vm)["points"].as<int>();
    if (points < 1 || points > 1000) throw UsageError("logs compare: --points must be in 1..1000, got " + std::to_string(points));
    std::cout << analysis::summary_table(summaries) << "\n" << analysis::compare_table(runs, points);
    return 0;
  }
  if (action == "export") {
    if (!vm->count("csv")) throw UsageError("logs export: choose the format with --csv");
    const std::string csv = analysis::to_csv(runs);
    if (vm->count("output")) {
      const std::string output = (*vm)["output"].as<std::string>();
      refuse_output_over_inputs("logs export --output", output, log_files((*vm)["paths"].as<std::vector<std::string>>()));
      write_file_atomically(output, csv);
    }
    else std::cout << csv;
    return 0;
  }
  if (action == "plot") {
    const std::string folder = output_folder(*vm, runs, "plot", "plots");
    const auto figures = analysis::plot_runs(runs, folder);
    for (const auto& f : figures) std::cout << f.png << "\n" << f.svg << "\n";
    return 0;
  }
  // report
  const std::string folder = output_folder(*vm, runs, "report", "report");
  const auto figures = analysis::plot_runs(runs, folder + "/figures");
  const std::string html = folder + "/report.html";
  analysis::write_report(runs, summaries, figures, html);
  std::cout << html << "\n";
  return 0;
}

}  // namespace biggan::cli
