// The samples' command line: strict options through CLI11 (Debian: libcli11-dev).
//
// cv::CommandLineParser accepts anything: a misspelt option does nothing, "12abc" reads as 12 and
// a malformed value as the default. These programs run unattended on production lines, where a
// typo must stop the run, not change it. Every sample parses with Options: unknown options,
// positional arguments, malformed numbers and values out of range are refused with one line on
// stderr and a usage hint (exit status 2).

#ifndef DMAD_SAMPLE_OPTIONS_HPP
#define DMAD_SAMPLE_OPTIONS_HPP

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

namespace dmad_samples {

//! Exit status of a refused command line (as CLI11's and getopt's conventions).
constexpr int kUsageError = 2;

class Options
{
public:
    Options(const std::string& program, const std::string& description)
        : program_(program), app_(description, program)
    {
        app_.set_help_flag("-h,--help", "print this help and exit");
        app_.allow_windows_style_options(false);
        app_.option_defaults()->always_capture_default();
        // an option given twice takes its last value, as in GNU tools: scripts put defaults
        // first and let their callers' options override them
        app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }

    CLI::App& app() { return app_; }
    const std::string& program() const { return program_; }

    /** Parses the command line. Returns -1 to go on, 0 after printing --help, kUsageError after
        printing one line naming the problem and how to get the usage. */
    int parse(int argc, char** argv)
    {
        try
        {
            app_.parse(argc, argv);
            return -1;
        }
        catch (const CLI::CallForHelp&)
        {
            std::cout << app_.help();
            return 0;
        }
        catch (const CLI::ParseError& e)
        {
            std::string what = e.what();
            for (char& c : what)
                c = c == '\n' ? ' ' : c;
            std::cerr << program_ << ": " << what << " (see " << program_ << " --help)" << std::endl;
            return kUsageError;
        }
    }

private:
    std::string program_;
    CLI::App app_;
};

/** A number in [low, high], finite: CLI::Range lets NaN through (every comparison with it is
    false), and a NaN learning rate or ratio would train a model of NaN scores. */
inline CLI::Validator finiteIn(double low, double high)
{
    const std::string range = "[" + CLI::detail::to_string(low) + ", " + CLI::detail::to_string(high) + "]";
    return CLI::Validator(
        [=](std::string& input) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(input.c_str(), &end);
            if (input.empty() || end != input.c_str() + input.size())
                return "'" + input + "' is not a number";
            if (!std::isfinite(v) || v < low || v > high)
                return "'" + input + "' is outside " + range;
            return std::string();
        },
        "in " + range);
}

/** A number in [low, high], or exactly `keep`: the "-1: keep the configuration's value" of the
    override options. */
inline CLI::Validator finiteInOrKeep(double keep, double low, double high)
{
    const CLI::Validator in = finiteIn(low, high);
    return CLI::Validator(
        [=](std::string& input) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(input.c_str(), &end);
            if (!input.empty() && end == input.c_str() + input.size() && v == keep)
                return std::string();
            std::string copy = input;
            const std::string error = in(copy);
            return error.empty() ? error : error + " (or " + CLI::detail::to_string(keep) + ": keep)";
        },
        CLI::detail::to_string(keep) + " or in [" + CLI::detail::to_string(low) + ", " +
            CLI::detail::to_string(high) + "]");
}

//! OpenCV threads: -1 (OpenCV's default) or 1..256 (TBB's teardown crashed on absurd counts).
inline CLI::Validator threadCount()
{
    return CLI::Validator(
        [](std::string& input) -> std::string {
            char* end = nullptr;
            const long v = std::strtol(input.c_str(), &end, 10);
            if (input.empty() || end != input.c_str() + input.size() || !(v == -1 || (v >= 1 && v <= 256)))
                return "'" + input + "' must be -1 (OpenCV's default) or 1..256";
            return std::string();
        },
        "-1 or 1..256");
}

//! A path option must not be empty ("--out=" would otherwise mean the working folder or "/").
inline CLI::Validator nonEmpty()
{
    return CLI::Validator(
        [](std::string& input) -> std::string { return input.empty() ? "an empty path" : std::string(); },
        "not empty");
}

} // namespace dmad_samples

#endif // DMAD_SAMPLE_OPTIONS_HPP
