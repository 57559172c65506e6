#include "analysis/report.h"

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>

#include <chrono>
#include <ctime>
#include <sstream>

#include "core/atomic_file.h"

namespace biggan::analysis {

namespace {

std::string escaped(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string png_uri(const std::string& path) { return "data:image/png;base64," + base64(read_file(path)); }

std::string now_text() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string base64(const std::string& bytes) {
  using namespace boost::archive::iterators;
  using Encoder = base64_from_binary<transform_width<std::string::const_iterator, 6, 8>>;
  std::string out(Encoder(bytes.begin()), Encoder(bytes.end()));
  out.append((3 - bytes.size() % 3) % 3, '=');
  return out;
}

void write_report(const std::vector<RunLogs>& runs, const std::vector<Summary>& summaries,
                  const std::vector<Figure>& figures, const std::string& html_path) {
  std::ostringstream h;
  const std::string title = runs.size() == 1 ? runs[0].name : "comparison of " + std::to_string(runs.size()) + " runs";
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escaped(title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}"
       "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}th{background:#f3f3f3}"
       "figure{margin:16px 0}img{max-width:100%;border:1px solid #ddd}figcaption{font-size:13px;color:#555}"
       "code{background:#f6f6f6;padding:1px 4px}</style></head><body>\n"
    << "<h1>" << escaped(title) << "</h1>\n<p>biggan logs report, " << now_text() << ".</p>\n";

  const Table table = summary_rows(summaries);
  h << "<h2>Summary</h2>\n<table>\n<tr>";
  for (const auto& c : table.header) h << "<th>" << escaped(c) << "</th>";
  h << "</tr>\n";
  for (const auto& row : table.rows) {
    h << "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) h << (i ? "<td>" : "<th>") << escaped(row[i]) << (i ? "</td>" : "</th>");
    h << "</tr>\n";
  }
  h << "</table>\n<ul>\n";
  for (const auto& run : runs)
    h << "<li><b>" << escaped(run.name) << "</b>: <code>" << escaped(run.path) << "</code> (" << escaped(run.format)
      << ")</li>\n";
  h << "</ul>\n";

  h << "<h2>Figures</h2>\n";
  for (const auto& f : figures)
    h << "<figure><img alt=\"" << escaped(f.title) << "\" src=\"" << png_uri(f.png) << "\"><figcaption>"
      << escaped(f.title) << "</figcaption></figure>\n";

  bool any_sheet = false;
  for (const auto& run : runs) {
    if (run.sample_sheets.empty()) continue;
    if (!any_sheet) h << "<h2>Latest samples</h2>\n";
    any_sheet = true;
    const std::string& sheet = run.sample_sheets.back();
    h << "<figure><img style=\"image-rendering:pixelated;min-width:384px\" alt=\"samples\" src=\"" << png_uri(sheet)
      << "\"><figcaption>" << escaped(run.name) << ": <code>" << escaped(sheet) << "</code></figcaption></figure>\n";
  }

  std::vector<std::string> notes;
  for (const auto& run : runs) notes.insert(notes.end(), run.notes.begin(), run.notes.end());
  if (!notes.empty()) {
    h << "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : notes) h << "<li>" << escaped(n) << "</li>\n";
    h << "</ul>\n";
  }
  h << "</body></html>\n";
  write_file_atomically(html_path, h.str());
}

}  // namespace biggan::analysis
