// "Did you mean ...?" for unknown keys, sections, subcommands and options.
#pragma once

#include <string>
#include <vector>

namespace biggan {

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(const std::string& a, const std::string& b);
// The closest candidate when it is plausibly a typo (distance <= max(2, |word|/3)), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace biggan
