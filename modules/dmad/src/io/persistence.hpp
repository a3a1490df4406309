// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_PERSISTENCE_HPP
#define OPENCV_DMAD_PERSISTENCE_HPP

#include <opencv2/core.hpp>

#include <functional>

namespace cv {
namespace dmad {
namespace persistence {

//! Version of the dmad file layout this code writes; files with a larger number are refused.
constexpr int kFormatVersion = 1;

//! Key of the layout version in every dmad node (OpenCV's own `format` key is global, not per class).
constexpr const char* kVersionKey = "dmad_format_version";
//! Key naming the class that wrote a node.
constexpr const char* kClassKey = "dmad_class";

//! Writes the version and class keys at the start of an Algorithm's node.
void writeHeader(FileStorage& fs, const String& className);

/** Checks a node written by writeHeader() before anything else is read from it.
    @param where the file (and node) named in error messages. */
void checkHeader(const FileNode& node, const String& className, const String& where);

/** Writes a file through `writeNodes` (which writes one or more top-level nodes) to a temporary file
    beside `filename` and renames it into place, so a failure never leaves a half-written file.
    Matrices are stored in BASE64; a `.gz` suffix compresses.

    The text FileStorage produces is followed by one checksum line (inside the gzip stream for .gz):
    `#dmad-checksum crc32=<8 hex digits> size=<decimal>` (YAML, JSON) or
    `<!--dmad-checksum crc32=<8 hex digits> size=<decimal>-->` (XML), then '\n', where size counts
    the bytes before that line and crc32 is their CRC-32 (the zlib / gzip / PNG polynomial). OpenCV
    reads the line as a comment (JSON: trailing text, which its parser ignores). The whole text is
    built in memory and every write is checked, so a full disk fails the save instead of leaving a
    short file. */
void saveAtomically(const String& filename, const std::function<void(FileStorage&)>& writeNodes);

/** Model files are read whole (FileStorage parses them in memory): larger ones are refused before
    a byte is parsed. The four-class model of the default configuration is 19.6 MB (doc/model.md); a
    paper-scale bank of 177,336 x 1536 float16 entries is 545 MB. */
constexpr uint64 kMaxModelFileBytes = uint64(1) << 30;
//! The same bound on what a gzip-compressed model inflates to.
constexpr uint64 kMaxModelDataBytes = uint64(2) << 30;

/** Refuses, with a clear cv::Exception, a path that is missing, not a regular file (a folder, a
    device, a FIFO that would block), or larger than maxBytes. `what` names it in the message. */
void checkInputFile(const String& path, uint64 maxBytes, const char* what);

/** Checks the checksum line of a file written by saveAtomically() before anything parses it: a
    truncated file, a flipped bit or a changed byte raises cv::Exception naming the file, and
    OpenCV's FileStorage parser (which can loop forever on some corrupt BASE64 blocks in 4.6) never
    sees a damaged file. A file without the line (saved before dmad wrote checksums, or written by
    hand) is refused unless the environment variable OPENCV_DMAD_ALLOW_UNCHECKED_FILES is 1. */
void verifyChecksum(const String& filename);

//! Writes `name: { algorithm.write() }`, a top-level node that the class's load(file, name) reads.
void writeNode(FileStorage& fs, const String& name, const Algorithm& algorithm);

/** Opens a file written by saveAtomically() and returns its node `objname` (or the first top-level
    node when objname is empty). Missing, damaged (verifyChecksum()) and unparsable files raise
    cv::Exception naming the file. */
FileNode openNode(FileStorage& fs, const String& filename, const String& objname,
                  const String& defaultName);

/** The save() of every part: `part` as the one top-level node `name` of `filename`, written by
    saveAtomically(). */
void saveAlgorithm(const String& filename, const String& name, const Algorithm& part);

/** The load() of every part: reads `part` from node `objname` of a file written by
    saveAlgorithm() (openNode() picks the node); errors name the file and node. */
void loadAlgorithm(Algorithm& part, const String& filename, const String& objname,
                   const String& defaultName);

/** Reads `part` from the child `name` of `container`: the root of an open model file (its parts,
    from one parse) or a node holding a whole model. A missing node and the part's errors name
    `filename` (the file, or the place) and the node. */
void readAlgorithmNode(Algorithm& part, const FileNode& container, const String& name,
                       const String& filename);

/** Rethrows `e` with the place appended, "(node 'name' in 'file')", unless its message already
    names the file. For the catch blocks of the load() functions. */
CV_NORETURN void rethrowWithPlace(const cv::Exception& e, const String& filename,
                                  const FileNode& node);

/** Reads a required key; a missing or mistyped one raises cv::Exception naming key and place. */
int readInt(const FileNode& node, const char* key, const String& where);
double readReal(const FileNode& node, const char* key, const String& where);
String readString(const FileNode& node, const char* key, const String& where);
Mat readMat(const FileNode& node, const char* key, const String& where);

} // namespace persistence
}} // namespace cv::dmad

#endif // OPENCV_DMAD_PERSISTENCE_HPP
