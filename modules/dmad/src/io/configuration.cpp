// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/configuration.hpp"

#include <cstdlib>
#include <set>

#if defined(__has_include)
#if __has_include(<opencv2/core/utils/configuration.private.hpp>)
#include <opencv2/core/utils/configuration.private.hpp>
#define DMAD_HAVE_CONFIGURATION_HEADER 1
#endif
#endif

#ifndef DMAD_HAVE_CONFIGURATION_HEADER
// Distributions install OpenCV without this header (Debian 12 among them); the functions are
// exported by opencv_core all the same, with these signatures since OpenCV 3.4.
namespace cv { namespace utils {
CV_EXPORTS bool getConfigurationParameterBool(const char* name, bool defaultValue);
CV_EXPORTS size_t getConfigurationParameterSizeT(const char* name, size_t defaultValue);
CV_EXPORTS cv::String getConfigurationParameterString(const char* name, const char* defaultValue);
}} // namespace cv::utils
#endif

namespace cv {
namespace dmad {
namespace config {

namespace {

/** The name under which the setting is given: OPENCV_DMAD_<name> when set, else the deprecated
    DMAD_<name> when set (warned once), else empty. */
String setName(const char* name)
{
    const String current = String("OPENCV_DMAD_") + name, old = String("DMAD_") + name;
    if (std::getenv(current.c_str()))
        return current;
    if (!std::getenv(old.c_str()))
        return String();
    static std::mutex mutex;
    static std::set<String> warned;
    std::lock_guard<std::mutex> lock(mutex);
    if (warned.insert(old).second)
        CV_LOG_WARNING(NULL, "dmad: " << old << " is deprecated, set " << current << " instead");
    return old;
}

} // namespace

String getString(const char* name, const String& defaultValue)
{
    const String set = setName(name);
    return set.empty() ? defaultValue : utils::getConfigurationParameterString(set.c_str(), defaultValue.c_str());
}

size_t getSizeT(const char* name, size_t defaultValue)
{
    const String set = setName(name);
    return set.empty() ? defaultValue : utils::getConfigurationParameterSizeT(set.c_str(), defaultValue);
}

bool getBool(const char* name, bool defaultValue)
{
    const String set = setName(name);
    return set.empty() ? defaultValue : utils::getConfigurationParameterBool(set.c_str(), defaultValue);
}

}}} // namespace cv::dmad::config
