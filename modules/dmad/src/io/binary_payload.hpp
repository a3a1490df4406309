// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_BINARY_PAYLOAD_HPP
#define OPENCV_DMAD_BINARY_PAYLOAD_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {
namespace persistence {

/** Large matrices (the banks) as a payload that loads at disk speed, inside the same FileStorage
    file. FileStorage's own BASE64 form is decoded into one FileNode per value (about 130 ms per MB
    in OpenCV 4.6); here the raw little-endian bytes are base64 text cut into strings of
    kPayloadChunkChars characters (FileStorage's strings are limited to 4 KB), which the parser
    passes through whole. The file's checksum line covers them like the rest.

    The node: `{ payload: "base64", dt: "f" | "h" | "i", rows, cols, chunks: [ "B...", ... ] }`
    (dt as in FileStorage: float32, float16, int32; each chunk is 'B' and up to kPayloadChunkChars
    base64 characters). */
constexpr int kPayloadChunkChars = 4000;

//! Writes `m` (continuous or not; CV_32F, CV_16F or CV_32S, one channel) as a payload node `key`.
CV_EXPORTS void writePayload(FileStorage& fs, const String& key, const Mat& m);

//! Whether `node` is a payload written by writePayload() (else it is, e.g., an older plain matrix).
bool isPayload(const FileNode& node);

/** Reads a payload node; every inconsistency (declared shape and byte count, bad base64, a chunk
    of the wrong length, a byte count that does not match the shape) raises cv::Exception naming
    `key` and `where`. */
CV_EXPORTS Mat readPayload(const FileNode& node, const char* key, const String& where);

}}} // namespace cv::dmad::persistence

#endif // OPENCV_DMAD_BINARY_PAYLOAD_HPP
