#include "protocol/replay_window.h"

namespace squtun::protocol {
namespace {

constexpr unsigned word_of(std::uint64_t counter) {
  return static_cast<unsigned>((counter / ReplayWindow::kWordBits) % ReplayWindow::kWords);
}

constexpr std::uint64_t bit_of(std::uint64_t counter) {
  return 1ULL << (counter % ReplayWindow::kWordBits);
}

}  // namespace

bool ReplayWindow::check(std::uint64_t counter) const {
  if (counter >= kRejectAfterMessages) return false;
  if (!any_ || counter > highest_) return true;
  if (highest_ - counter >= kWindowSize) return false;
  return (bitmap_[word_of(counter)] & bit_of(counter)) == 0;
}

bool ReplayWindow::accept(std::uint64_t counter) {
  if (!check(counter)) return false;
  if (!any_ || counter > highest_) {
    const std::uint64_t first_new_word = any_ ? highest_ / kWordBits + 1 : 0;
    const std::uint64_t last_word = counter / kWordBits;
    const std::uint64_t words_to_clear = last_word >= first_new_word ? last_word - first_new_word + 1 : 0;
    const std::uint64_t clear = words_to_clear < kWords ? words_to_clear : kWords;
    for (std::uint64_t i = 0; i < clear; ++i) bitmap_[word_of((first_new_word + i) * kWordBits)] = 0;
    highest_ = counter;
    any_ = true;
  }
  bitmap_[word_of(counter)] |= bit_of(counter);
  return true;
}

}  // namespace squtun::protocol
