#include "core/crash_note.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

namespace biggan::core {

namespace {

// One note per thread (the loader's prefetch thread and the checkpoint writer read too). The
// handler runs on the thread that faulted, so it reads that thread's note; it only calls
// async-signal-safe functions (strlen, write, sigaction, raise).
constexpr std::size_t kNoteBytes = 1024;
thread_local char t_note[kNoteBytes];
thread_local const char* t_current = nullptr;  // t_note while a ReadingFile is in scope

struct sigaction g_previous_segv {}, g_previous_bus {};

void write_all(const char* text) {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

extern "C" void on_crash(int signal, siginfo_t* info, void*) {
  if (t_current != nullptr) {
    write_all("biggan: crashed while reading ");
    write_all(t_current);
    write_all(": the file is probably damaged in a way its library does not check. Check it (h5dump -H for "
              "HDF5), or write it again (biggan prepare-data, or copy it anew)\n");
  }
  // The previous handler (Open MPI's, or the default one) ends the process by this signal. A
  // real fault happens again when the faulting instruction resumes, so that handler sees (and
  // Open MPI prints) the original address and stack; a signal sent by kill or raise is re-sent.
  sigaction(signal, signal == SIGBUS ? &g_previous_bus : &g_previous_segv, nullptr);
  if (info == nullptr || info->si_code <= 0) raise(signal);
}

// Installed on first use, after MPI_Init has put its own handlers in place, so that ours runs
// first and then hands over to them.
void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_crash;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, &g_previous_segv);
    sigaction(SIGBUS, &action, &g_previous_bus);
  });
}

}  // namespace

ReadingFile::ReadingFile(const std::string& path) : previous_(t_current) {
  install_once();
  if (previous_ != nullptr) return;  // the outermost file is the one the user gave
  const std::size_t n = std::min(path.size(), kNoteBytes - 1);
  std::memcpy(t_note, path.data(), n);
  t_note[n] = '\0';
  t_current = t_note;
}

ReadingFile::~ReadingFile() {
  if (previous_ == nullptr) t_current = nullptr;
}

}  // namespace biggan::core
