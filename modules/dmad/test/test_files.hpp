// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Byte-level access to saved dmad files, for the tests that damage or edit them. The checksum line
// is recomputed here independently of the library (src/io/persistence.hpp documents its format).

#ifndef OPENCV_DMAD_TEST_FILES_HPP
#define OPENCV_DMAD_TEST_FILES_HPP

#include "test_precomp.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>

namespace opencv_test {

inline std::string readFileBytes(const std::string& path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void writeFileBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path.c_str(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), (std::streamsize)bytes.size());
}

//! CRC-32 (reflected polynomial 0xEDB88320, as zlib, gzip and PNG), bit by bit.
inline uint32_t crc32Bitwise(const std::string& bytes, size_t size)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++)
    {
        crc ^= (unsigned char)bytes[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

//! Where the checksum line of a saved text starts, or npos.
inline size_t checksumLineStart(const std::string& text)
{
    const size_t hash = text.rfind("\n#dmad-checksum "), xml = text.rfind("\n<!--dmad-checksum ");
    size_t at = hash == std::string::npos ? xml : hash;
    if (hash != std::string::npos && xml != std::string::npos)
        at = std::max(hash, xml);
    return at == std::string::npos ? at : at + 1;
}

/** The text with its checksum line (if any) replaced by a fresh one: what dmad would have written
    for this content. Edited files stay loadable, so a test reaches the check it aims at. */
inline std::string withChecksum(std::string text)
{
    const size_t at = checksumLineStart(text);
    if (at != std::string::npos)
        text.resize(at);
    if (text.empty() || text.back() != '\n')
        text += '\n';
    char line[96];
    const bool xml = text.compare(0, 5, "<?xml") == 0;
    std::snprintf(line, sizeof(line), xml ? "<!--dmad-checksum crc32=%08x size=%llu-->\n"
                                          : "#dmad-checksum crc32=%08x size=%llu\n",
                  (unsigned)crc32Bitwise(text, text.size()), (unsigned long long)text.size());
    return text + line;
}

/** Replaces the first `from` of an uncompressed saved file by `to`, then re-seals the checksum
    (reseal = false leaves the old one, which the load must then report). False when absent. */
inline bool editSavedFile(const std::string& path, const std::string& from, const std::string& to,
                          bool reseal = true)
{
    std::string text = readFileBytes(path);
    const size_t at = text.find(from);
    if (at == std::string::npos)
        return false;
    text.replace(at, from.size(), to);
    writeFileBytes(path, reseal ? withChecksum(text) : text);
    return true;
}

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_FILES_HPP
