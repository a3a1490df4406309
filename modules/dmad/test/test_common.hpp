// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// What the tests of dmad and dmad_eval share: the test framework (GTest standalone, opencv_ts in an
// OpenCV tree), shared-data lookup and skips, temporary files, error assertions, bad-input tables.

#ifndef OPENCV_DMAD_TEST_COMMON_HPP
#define OPENCV_DMAD_TEST_COMMON_HPP

#ifdef DMAD_STANDALONE
#include <gtest/gtest.h>
#else
#include "opencv2/ts.hpp"
#endif

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace opencv_test {
using namespace cv;

/** Absolute path of a file under the shared data folder (`../shared` beside the repository, or
    $DMAD_SHARED_PATH), or an empty string when it is absent. */
inline std::string sharedFile(const std::string& relative)
{
    const char* env = std::getenv("DMAD_SHARED_PATH");
#ifdef DMAD_SHARED_DIR
    const std::string root = env && *env ? std::string(env) : std::string(DMAD_SHARED_DIR);
#else
    const std::string root = env && *env ? std::string(env) : std::string();
#endif
    if (root.empty())
        return std::string();
    const std::string path = root + "/" + relative;
    std::ifstream probe(path.c_str());
    return probe.good() || cv::utils::fs::isDirectory(path) ? path : std::string();
}

/** Skips the current test; `message` is a `<<` chain (`"needs " << file`). The googletest bundled in
    OpenCV's ts module (4.6) has no GTEST_SKIP: there a test skips by throwing
    cvtest::SkipTestException, which its TEST wrapper reports as "[     SKIP ]" and counts in the closing
    "[ SKIPSTAT ]" line (the test itself is then reported OK, never failed). */
#ifdef DMAD_STANDALONE
#define DMAD_SKIP_TEST(message) GTEST_SKIP() << message
#else
#define DMAD_SKIP_TEST(message)                                                                     \
    do {                                                                                            \
        std::ostringstream dmad_skip_message_;                                                      \
        dmad_skip_message_ << message;                                                              \
        throw ::cvtest::SkipTestException(dmad_skip_message_.str());                                \
    } while (0)
#endif

//! Skips the current test, with the reason, when a shared file is absent.
#define DMAD_REQUIRE_SHARED(var, relative)                                                          \
    const std::string var = ::opencv_test::sharedFile(relative);                                    \
    if (var.empty())                                                                                \
        DMAD_SKIP_TEST("needs ../shared/" << (relative)                                             \
                       << " (set DMAD_SHARED_PATH to the shared folder to run this test)")

//! A path for a temporary file that is removed when the guard goes out of scope.
struct TempFile
{
    explicit TempFile(const std::string& suffix) : path(cv::tempfile(suffix.c_str())) {}
    ~TempFile() { std::remove(path.c_str()); }
    std::string path;
};

//! A temporary folder, removed with its content when the guard goes out of scope.
struct TempDir
{
    TempDir() : path(cv::tempfile("_dmad"))
    {
        if (!cv::utils::fs::createDirectories(path))
            throw std::runtime_error("cannot create temporary folder " + path);
    }
    ~TempDir() { cv::utils::fs::remove_all(path); }
    std::string path;
};

/** Path of a file of the module's own test data (modules/dmad/test/data), which is part of the
    repository: tests that need it fail, not skip, when it is missing. */
inline std::string testDataFile(const std::string& relative)
{
#ifdef DMAD_TEST_DATA_DIR
    return std::string(DMAD_TEST_DATA_DIR) + "/" + relative;
#else
    return relative;
#endif
}

//! The q quantile with linear interpolation, as numpy.quantile's default (the tests' reference).
inline double quantileOf(std::vector<float> v, double q)
{
    std::sort(v.begin(), v.end());
    const double at = q * (double)(v.size() - 1);
    const size_t below = (size_t)at, above = std::min(below + 1, v.size() - 1);
    return v[below] + (at - (double)below) * ((double)v[above] - v[below]);
}

//! Asserts that `statement` throws a cv::Exception whose message contains `fragment`.
#define EXPECT_CV_ERROR(statement, fragment)                                                        \
    do {                                                                                            \
        bool thrown_ = false;                                                                       \
        try { statement; }                                                                          \
        catch (const cv::Exception& e_) {                                                           \
            thrown_ = true;                                                                         \
            EXPECT_NE(std::string(e_.what()).find(fragment), std::string::npos)                    \
                << "message was: " << e_.what();                                                    \
        }                                                                                           \
        EXPECT_TRUE(thrown_) << "expected a cv::Exception containing '" << (fragment) << "'";      \
    } while (0)

//! Sets (value != nullptr) or removes an environment variable.
//! What `part.write()` writes inside the node `name` of an in-memory YAML file: a part's file form.
template <typename Part>
String writtenAsNode(const Part& part, const char* name)
{
    FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
    out << name << "{";
    part.write(out);
    out << "}";
    return out.releaseAndGetString();
}

inline void setEnvironment(const char* name, const char* value)
{
#ifdef _WIN32
    _putenv_s(name, value ? value : "");
#else
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

//! Restores an environment variable, set or not, when it goes out of scope.
struct EnvironmentGuard
{
    explicit EnvironmentGuard(const char* name) : name_(name)
    {
        const char* v = std::getenv(name);
        had_ = v != nullptr;
        if (had_)
            value_ = v;
    }
    ~EnvironmentGuard() { setEnvironment(name_, had_ ? value_.c_str() : nullptr); }
    const char* name_;
    bool had_;
    std::string value_;
};

//! One row of a bad-input table: a call that must raise a cv::Exception naming the problem.
struct BadInput
{
    const char* name;              //!< what is wrong
    std::function<void()> call;    //!< must throw
    std::string fragment;          //!< part of the message
};

//! Runs every row of a bad-input table; prints the table's size.
inline int runBadInputTable(const char* table, const std::vector<BadInput>& rows)
{
    for (const BadInput& row : rows)
    {
        SCOPED_TRACE(std::string(table) + ": " + row.name);
        EXPECT_CV_ERROR(row.call(), row.fragment);
    }
    std::cout << "[ TABLE    ] " << table << ": " << rows.size() << " bad inputs" << std::endl;
    return (int)rows.size();
}

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_COMMON_HPP
