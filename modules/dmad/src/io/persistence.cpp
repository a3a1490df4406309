// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/configuration.hpp"
#include "io/persistence.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <zlib.h>

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
    // The temporary keeps the file's suffix (informative: the name without .gz selects the format).
    // Time, a per-process counter and the process id keep concurrent saves apart.
    uint64 tag = (uint64)getTickCount() ^ ((uint64)counter.fetch_add(1) << 48);
#ifdef __unix__
    tag ^= (uint64)::getpid() << 24;
#endif
    return dir + cv::format(".tmp%llx-", (unsigned long long)tag) + base;
}

void flushToDisk(const String& path)
{
#ifdef __unix__
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0)
    {
        (void)::fsync(fd);
        ::close(fd);
    }
#else
    CV_UNUSED(path);
#endif
}

bool endsWith(const String& s, const char* suffix)
{
    const size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

const char* const kChecksumTag = "dmad-checksum";
//! Longer than any checksum line, shorter than any real file.
constexpr size_t kChecksumTail = 128;

String checksumLine(bool xml, uint32_t crc, uint64 size)
{
    const String body = cv::format("%s crc32=%08x size=%llu", kChecksumTag, (unsigned)crc,
                                   (unsigned long long)size);
    return xml ? "<!--" + body + "-->\n" : "#" + body + "\n";
}

uint32_t crc32Of(uint32_t crc, const char* data, size_t size)
{
    uLong c = crc;
    while (size > 0)
    {
        const uInt chunk = (uInt)std::min(size, (size_t)1 << 30);
        c = crc32(c, reinterpret_cast<const Bytef*>(data), chunk);
        data += chunk;
        size -= chunk;
    }
    return (uint32_t)c;
}

/** Parses a checksum line (without its '\n'); false when `line` is not one. Strict: exactly the
    text checksumLine() writes, so that a damaged line is never half-understood. */
bool parseChecksumLine(const String& line, uint32_t& crc, uint64& size)
{
    String body;
    if (line.size() > 1 && line[0] == '#')
        body = line.substr(1);
    else if (line.size() > 7 && line.compare(0, 4, "<!--") == 0 && endsWith(line, "-->"))
        body = line.substr(4, line.size() - 7);
    else
        return false;
    const String prefix = String(kChecksumTag) + " crc32=";
    if (body.compare(0, prefix.size(), prefix) != 0 || body.size() < prefix.size() + 8 + 6 + 1)
        return false;
    const String hex = body.substr(prefix.size(), 8);
    const String rest = body.substr(prefix.size() + 8);
    if (hex.find_first_not_of("0123456789abcdef") != String::npos ||
        rest.compare(0, 6, " size=") != 0)
        return false;
    const String digits = rest.substr(6);
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != String::npos)
        return false;
    crc = (uint32_t)std::strtoul(hex.c_str(), nullptr, 16);
    size = (uint64)std::strtoull(digits.c_str(), nullptr, 10);
    return true;
}

//! Closes a gzFile on every path.
struct GzCloser
{
    gzFile file;
    ~GzCloser()
    {
        if (file)
            gzclose(file);
    }
};

String gzErrorOf(gzFile file)
{
    int code = Z_OK;
    const char* message = gzerror(file, &code);
    if (code == Z_ERRNO)
        return std::strerror(errno);
    return message && *message ? String(message) : cv::format("zlib error %d", code);
}

//! Writes the bytes of `text` to `path`, gzip-compressed or not, checking every step.
void writeFileBytes(const String& path, const String& text, bool compress)
{
    if (compress)
    {
        GzCloser out{ gzopen(path.c_str(), "wb") };
        if (!out.file)
            CV_Error(Error::StsError, cv::format("dmad: cannot write '%s' (%s)", path.c_str(),
                                                 std::strerror(errno)));
        for (size_t at = 0; at < text.size();)
        {
            const unsigned chunk = (unsigned)std::min(text.size() - at, (size_t)1 << 24);
            if (gzwrite(out.file, text.data() + at, chunk) != (int)chunk)
                CV_Error(Error::StsError, cv::format("dmad: cannot write '%s' (%s)", path.c_str(),
                                                     gzErrorOf(out.file).c_str()));
            at += chunk;
        }
        const int closed = gzclose(out.file);
        out.file = nullptr;
        if (closed != Z_OK)
            CV_Error(Error::StsError,
                     cv::format("dmad: cannot write '%s' (gzclose: %s)", path.c_str(),
                                closed == Z_ERRNO ? std::strerror(errno) : "zlib error"));
        return;
    }
    FILE* out = std::fopen(path.c_str(), "wb");
    if (!out)
        CV_Error(Error::StsError,
                 cv::format("dmad: cannot write '%s' (%s)", path.c_str(), std::strerror(errno)));
    const size_t written = std::fwrite(text.data(), 1, text.size(), out);
    const int flushed = std::fflush(out);
    const int error = written != text.size() || flushed != 0 ? errno : 0;
    if (std::fclose(out) != 0 || written != text.size() || flushed != 0)
        CV_Error(Error::StsError, cv::format("dmad: cannot write '%s' (%s)", path.c_str(),
                                             std::strerror(error ? error : errno)));
}

//! The folder part of a path ("." for a bare name).
String folderOf(const String& filename)
{
    const size_t slash = filename.find_last_of("/\\");
    if (slash == String::npos)
        return ".";
    return slash == 0 ? String("/") : filename.substr(0, slash);
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
    if (filename.empty())
        CV_Error(Error::StsBadArg, "dmad: empty file name");
    const bool compress = endsWith(filename, ".gz");
    // In memory first: the checksum line needs the whole text, and nothing touches the disk when
    // writing the nodes fails. The name without .gz selects the format, as FileStorage does.
    FileStorage fs(compress ? filename.substr(0, filename.size() - 3) : filename,
                   FileStorage::WRITE | FileStorage::MEMORY | FileStorage::BASE64);
    if (!fs.isOpened())
        CV_Error(Error::StsError, cv::format("dmad: cannot write '%s'", filename.c_str()));
    writeNodes(fs);
    String text = fs.releaseAndGetString();
    if (text.empty() || text.back() != '\n')
        text += '\n';
    const bool xml = text.compare(0, 5, "<?xml") == 0;
    text += checksumLine(xml, crc32Of(0, text.data(), text.size()), (uint64)text.size());

    const String tmp = temporaryNameBeside(filename);
    try
    {
        writeFileBytes(tmp, text, compress);
        flushToDisk(tmp);
        if (std::rename(tmp.c_str(), filename.c_str()) != 0)
            CV_Error(Error::StsError, cv::format("dmad: cannot move '%s' to '%s' (%s)", tmp.c_str(),
                                                 filename.c_str(), std::strerror(errno)));
    }
    catch (...)
    {
        std::remove(tmp.c_str());
        throw;
    }
    flushToDisk(folderOf(filename));  // the rename itself survives a power cut
}

void checkInputFile(const String& path, uint64 maxBytes, const char* what)
{
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::status(path.c_str(), error);
    if (error || !std::filesystem::exists(status))
        CV_Error(Error::StsObjectNotFound, cv::format("dmad: cannot open %s '%s'", what, path.c_str()));
    if (!std::filesystem::is_regular_file(status))
        CV_Error(Error::StsBadArg, cv::format("dmad: %s '%s' is not a regular file", what, path.c_str()));
    const uintmax_t bytes = std::filesystem::file_size(path.c_str(), error);
    if (error)
        CV_Error(Error::StsObjectNotFound, cv::format("dmad: cannot open %s '%s'", what, path.c_str()));
    if (bytes > maxBytes)
        CV_Error(Error::StsOutOfRange, cv::format("dmad: %s '%s' has %llu MB, more than the limit of %llu MB", what,
                                                  path.c_str(), (unsigned long long)(bytes >> 20),
                                                  (unsigned long long)(maxBytes >> 20)));
}

void verifyChecksum(const String& filename)
{
    checkInputFile(filename, kMaxModelFileBytes, "model file");
    GzCloser in{ gzopen(filename.c_str(), "rb") };
    if (!in.file)
        CV_Error(Error::StsObjectNotFound, cv::format("dmad: cannot open '%s'", filename.c_str()));
    gzbuffer(in.file, 1 << 16);
    // Everything but the last kChecksumTail bytes goes into the CRC as it streams by; the
    // checksum line is in that tail. gzread passes uncompressed files through unchanged.
    std::vector<char> buffer(1 << 16);
    String tail;
    uint32_t crc = crc32Of(0, nullptr, 0);
    uint64 hashed = 0;
    for (;;)
    {
        const int n = gzread(in.file, buffer.data(), (unsigned)buffer.size());
        if (n < 0)
            CV_Error(Error::StsParseError, cv::format("dmad: '%s' is damaged: %s", filename.c_str(),
                                                      gzErrorOf(in.file).c_str()));
        if (n == 0)
            break;
        if (hashed + tail.size() + (size_t)n > kMaxModelDataBytes)  // a gzip bomb, or no model
            CV_Error(Error::StsOutOfRange,
                     cv::format("dmad: '%s' holds more than %llu MB of model data (the limit)",
                                filename.c_str(), (unsigned long long)(kMaxModelDataBytes >> 20)));
        tail.append(buffer.data(), (size_t)n);
        if (tail.size() > kChecksumTail)
        {
            const size_t take = tail.size() - kChecksumTail;
            crc = crc32Of(crc, tail.data(), take);
            hashed += take;
            tail.erase(0, take);
        }
    }
    int code = Z_OK;
    gzerror(in.file, &code);
    if (code != Z_OK)
        CV_Error(Error::StsParseError, cv::format("dmad: '%s' is damaged: %s", filename.c_str(),
                                                  gzErrorOf(in.file).c_str()));
    if (!gzdirect(in.file) && !endsWith(filename, ".gz"))
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is gzip-compressed but its name does not end in .gz",
                            filename.c_str()));

    // the last line, between the '\n' before it and the final '\n'
    const size_t lineEnd = tail.empty() || tail.back() != '\n' ? String::npos : tail.size() - 1;
    const size_t lineStart =
        lineEnd == String::npos || lineEnd == 0 ? String::npos : tail.rfind('\n', lineEnd - 1);
    uint32_t storedCrc = 0;
    uint64 storedSize = 0;
    if (lineStart == String::npos ||
        !parseChecksumLine(tail.substr(lineStart + 1, lineEnd - lineStart - 1), storedCrc,
                           storedSize))
    {
        if (config::getBool("ALLOW_UNCHECKED_FILES", false))
        {
            CV_LOG_WARNING(NULL, "dmad: '" << filename << "' has no checksum line; loaded "
                                           "unchecked (OPENCV_DMAD_ALLOW_UNCHECKED_FILES=1)");
            return;
        }
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is damaged or unchecked: it does not end with a "
                            "dmad-checksum line (a truncated file, or one not saved by dmad; set "
                            "OPENCV_DMAD_ALLOW_UNCHECKED_FILES=1 to load files saved before dmad wrote "
                            "checksums)", filename.c_str()));
    }
    crc = crc32Of(crc, tail.data(), lineStart + 1);
    hashed += lineStart + 1;
    if (hashed != storedSize)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is damaged: %llu bytes precede its checksum line, %llu "
                            "were saved (truncated or spliced)", filename.c_str(),
                            (unsigned long long)hashed, (unsigned long long)storedSize));
    if (crc != storedCrc)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is damaged: its content has CRC-32 %08x, the checksum "
                            "line says %08x (changed after it was saved)", filename.c_str(),
                            (unsigned)crc, (unsigned)storedCrc));
}

FileNode openNode(FileStorage& fs, const String& filename, const String& objname,
                  const String& defaultName)
{
    if (filename.empty())
        CV_Error(Error::StsBadArg, "dmad: empty file name");
    verifyChecksum(filename);
    try
    {
        fs.open(filename, FileStorage::READ);
    }
    catch (const cv::Exception& e)
    {
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is not a readable model file (%s)", filename.c_str(), e.err.c_str()));
    }
    catch (const std::exception& e)  // OpenCV 4.6's YAML parser can throw std::length_error
    {
        CV_Error(Error::StsParseError, cv::format("dmad: '%s' is not a readable model file (%s)",
                                                  filename.c_str(), e.what()));
    }
    if (!fs.isOpened())
        CV_Error(Error::StsParseError, cv::format("dmad: '%s' is not a readable model file", filename.c_str()));
    FileNode node;
    try
    {
        // a damaged file can parse into a top level that is not a map, where operator[] asserts
        node = objname.empty() ? fs[defaultName] : fs[objname];
        if (node.empty() && objname.empty())
            node = fs.getFirstTopLevelNode();
    }
    catch (const cv::Exception& e)
    {
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' is not a readable model file (%s)", filename.c_str(), e.err.c_str()));
    }
    if (node.empty())
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' has no node '%s'", filename.c_str(),
                            (objname.empty() ? defaultName : objname).c_str()));
    return node;
}

void rethrowWithPlace(const cv::Exception& e, const String& filename, const FileNode& node)
{
    if (e.err.find(filename) != String::npos)
        throw e;
    const String name = node.name();
    if (name.empty())
        CV_Error(e.code, cv::format("%s (in '%s')", e.err.c_str(), filename.c_str()));
    CV_Error(e.code, cv::format("%s (node '%s' in '%s')", e.err.c_str(), name.c_str(),
                                filename.c_str()));
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
    // OpenCV allocates rows x cols before it counts the values: check the declared shape against
    // the values really there first, so a damaged header cannot ask for gigabytes.
    const FileNode rowsNode = n["rows"], colsNode = n["cols"], dtNode = n["dt"], data = n["data"];
    if (!n.isMap() || !rowsNode.isInt() || !colsNode.isInt() || !dtNode.isString() ||
        !n["sizes"].empty())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: '%s' is not a 2D matrix (rows, cols, "
                                                  "dt, data)", where.c_str(), key));
    const String dt = (String)dtNode;
    const int rows = (int)rowsNode, cols = (int)colsNode;
    const int channels = dt.size() == 2 && dt[0] >= '1' && dt[0] <= '4' ? dt[0] - '0' : 1;
    if (dt.empty() || dt.size() > 2 || (dt.size() == 2 && channels == 1) ||
        String("ucwsifdh").find(dt.back()) == String::npos)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: matrix '%s' has an unsupported element type '%s'",
                            where.c_str(), key, dt.c_str()));
    const int64 declared = (int64)rows * cols * channels;
    const int64 present = data.isSeq() ? (int64)data.size() : 0;
    if (rows < 0 || cols < 0 || declared != present)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: matrix '%s' declares %dx%d (x%d channels) but holds %lld "
                            "values", where.c_str(), key, rows, cols, channels,
                            (long long)present));
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

void saveAlgorithm(const String& filename, const String& name, const Algorithm& part)
{
    saveAtomically(filename, [&](FileStorage& fs) { writeNode(fs, name, part); });
}

void loadAlgorithm(Algorithm& part, const String& filename, const String& objname,
                   const String& defaultName)
{
    FileStorage fs;
    const FileNode node = openNode(fs, filename, objname, defaultName);
    try
    {
        part.read(node);
    }
    catch (const cv::Exception& e)
    {
        rethrowWithPlace(e, filename, node);
    }
}

void readAlgorithmNode(Algorithm& part, const FileNode& container, const String& name,
                       const String& filename)
{
    const FileNode node = container[name];
    if (node.empty())
        CV_Error(Error::StsParseError,
                 cv::format("dmad: '%s' has no node '%s'", filename.c_str(), name.c_str()));
    try
    {
        part.read(node);
    }
    catch (const cv::Exception& e)
    {
        rethrowWithPlace(e, filename, node);
    }
}

} // namespace persistence
}} // namespace cv::dmad
