// replay_main.cpp - runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer.
//
// Used when the compiler is not clang: `fuzz_x DIR_OR_FILE...` feeds every regular file
// (directories are walked, options starting with '-' are ignored) to the target once and
// prints how many ran. A crash or sanitizer report fails the CTest test; no input is an
// error too, so a lost corpus does not pass silently.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    int ran = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.starts_with("-")) {
            continue;
        }
        const std::filesystem::path path(arg);
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
                if (entry.is_regular_file()) {
                    ran += run_file(entry.path());
                }
            }
        } else if (std::filesystem::is_regular_file(path)) {
            ran += run_file(path);
        }
    }
    std::cout << argv[0] << ": ran " << ran << " inputs\n";
    return ran > 0 ? 0 : 1;
}
