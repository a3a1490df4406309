// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "persistence.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>

#ifdef __unix__
#include <fcntl.h>
#include <unistd.h>
#endif

namespace cv {
namespace dmad {
namespace persistence {

void writeHeader(FileStorage& fs, const String& className)
{
    fs << kVersionKey << kFormatVersion;
    fs << kClassKey << className;
}

void checkHeader(const FileNode& node, const String& className, const String& where)
{
    if (node.empty() || !node.isMap())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: no %s node", where.c_str(), className.c_str()));
    const FileNode versionNode = node[kVersionKey];
    if (!versionNode.isInt())
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: missing '%s'; not written by dmad", where.c_str(), kVersionKey));
    const int version = (int)versionNode;
    if (version > kFormatVersion)
        CV_Error(Error::StsUnsupportedFormat,
                 cv::format("dmad: %s was written by a newer dmad (format version %d; this build reads up to %d)",
                            where.c_str(), version, kFormatVersion));
    if (version < 1)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid %s %d", where.c_str(), kVersionKey, version));
    const FileNode classNode = node[kClassKey];
    const String storedClass = classNode.isString() ? (String)classNode : String();
    if (storedClass != className)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s holds '%s', expected '%s'", where.c_str(),
                            storedClass.empty() ? "(no class)" : storedClass.c_str(), className.c_str()));
}

namespace {

String temporaryNameBeside(const String& filename)
{
    static std::atomic<unsigned> counter{0};
    const size_t slash = filename.find_last_of("/\\");
    const String dir = slash == String::npos ? String() : filename.substr(0, slash + 1);
    const String base = slash == String::npos ? filename : filename.substr(slash + 1);
    // The temporary keeps the file's suffix, which selects the FileStorage format and compression.
    const uint64 tag = (uint64)getTickCount() ^ ((uint64)counter.fetch_add(1) << 48);
    return dir + cv::format(".tmp%llx-", (unsigned long long)tag) + base;
}

void flushToDisk(const String& filename)
{
#ifdef __unix__
    const int fd = ::open(filename.c_str(), O_RDONLY);
    if (fd >= 0)
    {
        (void)::fsync(fd);
        ::close(fd);
    }
#else
    CV_UNUSED(filename);
#endif
}

} // namespace

void writeNode(FileStorage& fs, const String& name, const Algorithm& algorithm)
{
    fs << name << "{";
    algorithm.write(fs);
    fs << "}";
}

void saveAtomically(const String& filename, const std::function<void(FileStorage&)>& writeNodes)
{
    CV_Assert(!filename.empty());
    const String tmp = temporaryNameBeside(filename);
    try
    {
        FileStorage fs(tmp, FileStorage::WRITE_BASE64);
        if (!fs.isOpened())
            CV_Error(Error::StsError, cv::format("dmad: cannot write '%s'", tmp.c_str()));
        writeNodes(fs);
        fs.release();
        flushToDisk(tmp);
        if (std::rename(tmp.c_str(), filename.c_str()) != 0)
            CV_Error(Error::StsError, cv::format("dmad: cannot move '%s' to '%s'", tmp.c_str(), filename.c_str()));
    }
    catch (...)
    {
        std::remove(tmp.c_str());
        throw;
    }
}

FileNode openNode(FileStorage& fs, const String& filename, const String& objname,
                  const String& defaultName)
{
    if (filename.empty())
        CV_Error(Error::StsBadArg, "dmad: empty file name");
    {
        std::ifstream probe(filename.c_str(), std::ios::binary);
        if (!probe.good())
            CV_Error(Error::StsObjectNotFound, cv::format("dmad: cannot open '%s'", filename.c_str()));
    }
    try
    {
        fs.open(filename, FileStorage::READ);
    }
    catch (const cv::Exception& e)
    {
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is not a readable model file (%s)", filename.c_str(), e.err.c_str()));
    }
    if (!fs.isOpened())
        CV_Error(Error::StsParseError, cv::format("dmad: '%s' is not a readable model file", filename.c_str()));
    FileNode node = objname.empty() ? fs[defaultName] : fs[objname];
    if (node.empty() && objname.empty())
        node = fs.getFirstTopLevelNode();
    if (node.empty())
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' has no node '%s'", filename.c_str(),
                            (objname.empty() ? defaultName : objname).c_str()));
    return node;
}

int readInt(const FileNode& node, const char* key, const String& where)
{
    const FileNode n = node[key];
    if (!n.isInt())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: missing or invalid integer '%s'", where.c_str(), key));
    return (int)n;
}

double readReal(const FileNode& node, const char* key, const String& where)
{
    const FileNode n = node[key];
    if (!n.isReal() && !n.isInt())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: missing or invalid number '%s'", where.c_str(), key));
    return (double)n;
}

String readString(const FileNode& node, const char* key, const String& where)
{
    const FileNode n = node[key];
    if (!n.isString())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: missing or invalid string '%s'", where.c_str(), key));
    return (String)n;
}

Mat readMat(const FileNode& node, const char* key, const String& where)
{
    const FileNode n = node[key];
    Mat m;
    if (n.empty())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: missing matrix '%s'", where.c_str(), key));
    try
    {
        n >> m;
    }
    catch (const cv::Exception& e)
    {
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: unreadable matrix '%s' (%s)", where.c_str(), key, e.err.c_str()));
    }
    return m;
}

} // namespace persistence
}} // namespace cv::dmad
