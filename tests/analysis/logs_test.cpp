// Offline log analysis on hand-made logs whose numbers are known: ours with one preemption, and
// BigGAN-PyTorch's formats; torn and malformed lines; the CSV round trip; figures and base64.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "analysis/export.h"
#include "analysis/plot.h"
#include "analysis/report.h"
#include "analysis/run_logs.h"
#include "analysis/summary.h"

namespace biggan::analysis {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/biggan_logs_test.XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// 10 iterations of 2 s; a preemption after iteration 6 (TERM at t=1012), back at t=1101.
fs::path write_our_run(const fs::path& root) {
  const fs::path run = root / "tiny";
  std::ostringstream metrics;
  for (int itr = 1; itr <= 10; ++itr) {
    const double time = itr <= 6 ? 1000 + 2 * itr : 1101 + 2 * (itr - 6);
    metrics << "{\"itr\":" << itr << ",\"G_loss\":" << 1.0 + itr << ",\"D_loss_real\":0.5,\"D_loss_fake\":0.25"
            << ",\"seconds_per_iteration\":2.0,\"images_per_second\":16.0,\"samples_seen\":" << 32 * itr
            << ",\"time\":" << time << "}\n";
  }
  write(run / "logs/metrics.jsonl", metrics.str());
  write(run / "logs/events.jsonl",
        "{\"event\":\"start\",\"itr\":0,\"job_id\":\"7\",\"restart_count\":0,\"time\":1000.0}\n"
        "{\"event\":\"stop\",\"itr\":6,\"job_id\":\"7\",\"reason\":\"signal 15\",\"restart_count\":0,\"time\":1012.0}\n"
        "{\"time\":1012.5,\"event\":\"preempted\",\"source\":\"sbatch\",\"job_id\":\"7\",\"restart_count\":0,\"itr\":6,\"reason\":\"TERM\"}\n"
        "{\"time\":1100.0,\"event\":\"job_start\",\"source\":\"sbatch\",\"job_id\":\"7\",\"restart_count\":1,\"itr\":6,\"reason\":\"\"}\n"
        "{\"checkpoint\":\"x\",\"event\":\"resume\",\"itr\":6,\"job_id\":\"7\",\"restart_count\":1,\"time\":1101.0}\n"
        "{\"event\":\"finish\",\"itr\":10,\"job_id\":\"7\",\"reason\":\"finished\",\"restart_count\":1,\"time\":1110.0}\n");
  write(run / "logs/eval.jsonl",
        "{\"itr\":5,\"accuracy\":0.5,\"frechet\":90.0,\"time\":1011.0}\n{\"itr\":10,\"accuracy\":0.7,\"frechet\":60.0,\"time\":1110.0}\n");
  write(run / "logs/sv.jsonl",
        "{\"itr\":5,\"G\":{\"linear.sv0\":1.5,\"blocks.0.0.conv1.sv0\":2.0},\"D\":{\"linear.sv0\":3.0}}\n"
        "{\"itr\":10,\"G\":{\"linear.sv0\":1.6,\"blocks.0.0.conv1.sv0\":2.1},\"D\":{\"linear.sv0\":3.5}}\n");
  return run;
}

// BigGAN-PyTorch: logs/<exp>_log.jsonl and logs/<exp>/{*.log, metalog.txt}.
fs::path write_biggan_pytorch_run(const fs::path& root) {
  const fs::path logs = root / "logs";
  write(logs / "BigGAN_C10_log.jsonl",
        "{\"itr\": 2000, \"IS_mean\": 5.25, \"IS_std\": 0.125, \"FID\": 40.5, \"_stamp\": 1600000000.0}\n"
        "{\"itr\": 4000, \"IS_mean\": 6.5, \"IS_std\": 0.25, \"FID\": 30.25, \"_stamp\": 1600003600.0}\n");
  std::ostringstream g, dr, df, sv;
  for (int itr = 1; itr <= 4000; itr += 1000) {
    g << itr << ": " << "1.000e+00\n";
    dr << itr << ": " << "5.000e-01\n";
    df << itr << ": " << "2.500e-01\n";
    sv << itr << ": " << "1.250e+00\n";
  }
  write(logs / "BigGAN_C10/G_loss.log", g.str());
  write(logs / "BigGAN_C10/D_loss_real.log", dr.str());
  write(logs / "BigGAN_C10/D_loss_fake.log", df.str());
  write(logs / "BigGAN_C10/G_blocks_0_0_conv1_sv0.log", sv.str());
  write(logs / "BigGAN_C10/metalog.txt", "datetime: 2019-03-01\nconfig: {}\nstate: {}\n");
  return logs;
}

TEST(Logs, SummaryOfARunWithOnePreemption) {
  TempDir tmp;
  const auto run = read_run(write_our_run(tmp.path).string());
  EXPECT_EQ(run.format, "biggan");
  ASSERT_EQ(run.train.size(), 10u);
  const Summary s = summarize(run, 5000.0);
  EXPECT_EQ(s.status, "finished");
  EXPECT_EQ(s.iterations, 10);
  EXPECT_DOUBLE_EQ(s.images_seen, 320);
  EXPECT_DOUBLE_EQ(s.compute_seconds, 20);
  EXPECT_DOUBLE_EQ(s.wall_seconds, 110);   // 1000 (start) to 1110 (finish)
  EXPECT_DOUBLE_EQ(s.lost_seconds, 88.5);  // last sign of life 1012.5, resumed 1101
  EXPECT_EQ(s.restarts, 1);
  EXPECT_EQ(s.requeues, 1);
  EXPECT_DOUBLE_EQ(s.seconds_per_iteration, 2);
  EXPECT_DOUBLE_EQ(s.images_per_second, 16);
  EXPECT_EQ(s.best_metric, "accuracy (max)");
  EXPECT_DOUBLE_EQ(s.best_value, 0.7);
  EXPECT_EQ(s.best_itr, 10);
  EXPECT_DOUBLE_EQ(s.last_G_loss, 11);
  EXPECT_FALSE(s.diverged);
  const auto marks = interruptions(run);
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].itr, 6);
  const std::string table = summary_table({s});
  EXPECT_NE(table.find("lost to restarts"), std::string::npos);
  EXPECT_NE(table.find("1m29s"), std::string::npos) << table;
}

// Sample sheets in iteration order; a name whose number would overflow is not a sheet of ours
// (and not a std::out_of_range from the summary).
TEST(Logs, SampleSheetsInIterationOrder) {
  TempDir tmp;
  const fs::path root = write_our_run(tmp.path);
  fs::create_directories(root / "samples");
  for (const char* name : {"fixed_samples10.png", "fixed_samples9.png", "fixed_samples99999999999999999999.png"})
    std::ofstream(root / "samples" / name) << "png";
  const auto run = read_run(root.string());
  ASSERT_EQ(run.sample_sheets.size(), 2u);
  EXPECT_EQ(fs::path(run.sample_sheets[0]).filename(), "fixed_samples9.png");
  EXPECT_EQ(fs::path(run.sample_sheets[1]).filename(), "fixed_samples10.png");
}

TEST(Logs, RedoneIterationsCountAsLostTime) {
  TempDir tmp;
  const auto root = write_our_run(tmp.path);
  // Killed at iteration 8 without a stop checkpoint; resumed from iteration 6.
  write(root / "logs/events.jsonl",
        "{\"event\":\"start\",\"itr\":0,\"time\":1000.0}\n"
        "{\"time\":1016.0,\"event\":\"step_end\",\"source\":\"sbatch\",\"itr\":8,\"reason\":\"exit code 137\"}\n"
        "{\"event\":\"resume\",\"itr\":6,\"time\":1101.0}\n");
  const Summary s = summarize(read_run(root.string()), 5000.0);
  EXPECT_DOUBLE_EQ(s.lost_seconds, (1101 - 1016) + 2 * 2.0);
  EXPECT_EQ(s.status, "interrupted");
}

TEST(Logs, RunningRunWithATornLastLine) {
  TempDir tmp;
  const auto root = write_our_run(tmp.path);
  std::ofstream(root / "logs/metrics.jsonl", std::ios::app) << "{\"itr\":11,\"G_lo";
  const auto run = read_run(root.string());
  EXPECT_EQ(run.train.size(), 10u);
  ASSERT_EQ(run.notes.size(), 1u);
  EXPECT_NE(run.notes[0].find("metrics.jsonl:11: partially written"), std::string::npos) << run.notes[0];
}

TEST(Logs, MalformedAndEmptyLogsNameTheFileAndLine) {
  TempDir tmp;
  const auto root = write_our_run(tmp.path);
  write(root / "logs/eval.jsonl", "{\"itr\":5,\"accuracy\":0.5}\nnot json\n{\"itr\":10}\n");
  try {
    read_run(root.string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eval.jsonl:2: not a JSON object"), std::string::npos) << e.what();
  }
  write(root / "logs/eval.jsonl", "");
  write(root / "logs/metrics.jsonl", "");
  try {
    read_run(root.string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no logged iterations"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_run((tmp.path / "nothing").string()), Error);
  const auto bp = write_biggan_pytorch_run(tmp.path / "bp");
  write(bp / "BigGAN_C10/G_loss.log", "1: 1.0\n2 1.0\n");
  try {
    read_run((bp / "BigGAN_C10").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("G_loss.log:2: expected"), std::string::npos) << e.what();
  }
}

TEST(Logs, NonFiniteLossMeansDiverged) {
  TempDir tmp;
  const auto root = write_our_run(tmp.path);
  std::ofstream(root / "logs/metrics.jsonl", std::ios::app)
      << "{\"itr\":11,\"G_loss\":null,\"D_loss_real\":0.5,\"D_loss_fake\":0.25,\"time\":1111.0}\n";
  const Summary s = summarize(read_run(root.string()), 5000.0);
  EXPECT_TRUE(s.diverged);
  EXPECT_NE(s.diverged_reason.find("non-finite G_loss at iteration 11"), std::string::npos);
}

TEST(Logs, BigGanPytorchLogsByFolderOrTestLog) {
  TempDir tmp;
  const auto logs = write_biggan_pytorch_run(tmp.path);
  for (const auto& path : {logs / "BigGAN_C10", logs / "BigGAN_C10_log.jsonl"}) {
    const auto run = read_run(path.string());
    EXPECT_EQ(run.format, "biggan-pytorch");
    EXPECT_EQ(run.name, "BigGAN_C10");
    ASSERT_EQ(run.train.size(), 4u);
    EXPECT_DOUBLE_EQ(run.train[3].values.at("D_loss_fake"), 0.25);
    ASSERT_EQ(run.sv.size(), 4u);
    EXPECT_DOUBLE_EQ(run.sv[0].values.at("G/blocks_0_0_conv1_sv0"), 1.25);
    ASSERT_EQ(run.eval.size(), 2u);
    EXPECT_DOUBLE_EQ(run.eval[1].time, 1600003600.0);
    const Summary s = summarize(run, 0);
    EXPECT_EQ(s.iterations, 4000);
    EXPECT_EQ(s.best_metric, "FID (min)");
    EXPECT_DOUBLE_EQ(s.best_value, 30.25);
    EXPECT_EQ(s.best_itr, 4000);
    EXPECT_DOUBLE_EQ(s.wall_seconds, 3600);
  }
}

TEST(Logs, CsvRoundTripsEveryValue) {
  TempDir tmp;
  const std::vector<RunLogs> runs{read_run(write_our_run(tmp.path).string()),
                                  read_run((write_biggan_pytorch_run(tmp.path / "bp") / "BigGAN_C10").string())};
  std::istringstream csv(to_csv(runs));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "run,source,itr,time,images_seen,metric,value");
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (line.back() == ',') cells.push_back("");
    ASSERT_EQ(cells.size(), 7u) << line;
    const auto& run = cells[0] == "tiny" ? runs[0] : runs[1];
    const auto& rows_of = cells[1] == "train" ? run.train : cells[1] == "sv" ? run.sv : run.eval;
    const std::int64_t itr = std::stoll(cells[2]);
    const Row* found = nullptr;
    for (const auto& r : rows_of)
      if (r.itr == itr) found = &r;
    ASSERT_NE(found, nullptr) << line;
    EXPECT_EQ(std::strtod(cells[6].c_str(), nullptr), found->values.at(cells[5])) << line;
    if (std::isfinite(found->time)) {
      EXPECT_EQ(std::strtod(cells[3].c_str(), nullptr), found->time) << line;
    }
    ++rows;
  }
  std::size_t expected = 0;
  for (const auto& run : runs)
    for (const auto* rows_of : {&run.train, &run.sv, &run.eval})
      for (const auto& r : *rows_of) expected += r.values.size();
  EXPECT_EQ(rows, expected);
}

TEST(Logs, CompareAlignsRunsByIterationAndImages) {
  TempDir tmp;
  const auto a = read_run(write_our_run(tmp.path / "a").string());
  const std::string table = compare_table({a, a}, 5);
  EXPECT_NE(table.find("Aligned by iteration"), std::string::npos);
  EXPECT_NE(table.find("Aligned by images seen"), std::string::npos);
  // Iteration 10: the mean G_loss over (8, 10] is (10 + 11) / 2.
  EXPECT_NE(table.find("10.5"), std::string::npos) << table;
}

TEST(Logs, Base64MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(Logs, FiguresAndReport) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed (gnuplot-nox)";
  TempDir tmp;
  const std::vector<RunLogs> runs{read_run(write_our_run(tmp.path).string()),
                                  read_run((write_biggan_pytorch_run(tmp.path / "bp") / "BigGAN_C10").string())};
  const auto figures = plot_runs(runs, (tmp.path / "plots").string());
  // Ours: losses, throughput, sv G, sv D, accuracy, frechet; theirs: losses, sv G, FID, IS;
  // comparison: losses, throughput, evaluations.
  EXPECT_EQ(figures.size(), 13u);
  for (const auto& f : figures) {
    ASSERT_TRUE(fs::exists(f.png)) << f.png;
    EXPECT_GT(fs::file_size(f.png), 5000u) << f.png;
    EXPECT_GT(fs::file_size(f.svg), 2000u) << f.svg;
  }
  std::vector<Summary> summaries;
  for (const auto& r : runs) summaries.push_back(summarize(r, 0));
  write_report(runs, summaries, figures, (tmp.path / "report.html").string());
  std::ifstream in(tmp.path / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t images = 0;
  for (std::size_t p = html.find("data:image/png;base64,"); p != std::string::npos; p = html.find("data:image/png;base64,", p + 1))
    ++images;
  EXPECT_EQ(images, figures.size());
  EXPECT_NE(html.find("lost to restarts"), std::string::npos);
}

}  // namespace
}  // namespace biggan::analysis
