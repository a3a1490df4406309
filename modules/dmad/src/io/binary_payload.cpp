// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/binary_payload.hpp"

#include <cstring>

namespace cv {
namespace dmad {
namespace persistence {

namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static_assert(kPayloadChunkChars % 4 == 0, "chunks hold whole base64 quads");

//! The FileStorage type letter of a payload's element type.
char typeLetter(int type)
{
    switch (type)
    {
    case CV_32F: return 'f';
    case CV_16F: return 'h';
    case CV_32S: return 'i';
    default: return 0;
    }
}

int typeOfLetter(char letter)
{
    switch (letter)
    {
    case 'f': return CV_32F;
    case 'h': return CV_16F;
    case 'i': return CV_32S;
    default: return -1;
    }
}

bool littleEndian()
{
    const uint16_t probe = 1;
    unsigned char first;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

//! Base64 of bytes [begin, end), with '=' padding at the very end only.
void encode(const unsigned char* p, size_t n, String& out)
{
    out.clear();
    out.reserve((n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3)
    {
        const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < n)
    {
        const uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
}

struct DecodeTable
{
    signed char value[256];
    DecodeTable()
    {
        std::memset(value, -1, sizeof(value));
        for (int i = 0; i < 64; i++)
            value[(unsigned char)kAlphabet[i]] = (signed char)i;
    }
};

/** Decodes `text` (a multiple of 4 characters) to `out`, returning the bytes written, or -1 on a
    character outside the alphabet, misplaced padding, or more than `capacity` bytes. */
int64 decode(const String& text, bool last, unsigned char* out, int64 capacity)
{
    static const DecodeTable table;
    const size_t n = text.size();
    if (n % 4)
        return -1;
    int64 written = 0;
    for (size_t i = 0; i < n; i += 4)
    {
        const unsigned char* q = (const unsigned char*)text.data() + i;
        const bool final = i + 4 == n;
        const int pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');
        if (pad && !(final && last))
            return -1;
        const int a = table.value[q[0]], b = table.value[q[1]];
        const int c = pad >= 2 ? 0 : table.value[q[2]], d = pad >= 1 ? 0 : table.value[q[3]];
        if ((a | b | c | d) < 0)
            return -1;
        const uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        if (written + 3 - pad > capacity)
            return -1;
        out[written++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[written++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[written++] = (unsigned char)v;
    }
    return written;
}

} // namespace

/* Each chunk starts with kChunkMark: FileStorage's XML and JSON readers would otherwise take a
   chunk made of digits alone (a short last one can be) for a number. */
const char kChunkMark = 'B';

void writePayload(FileStorage& fs, const String& key, const Mat& m)
{
    // an empty matrix keeps its type where it has one of ours (an empty float16 bank stays float16);
    // a default-constructed one (CV_8U) is written as 0 x 0 float32
    char letter = typeLetter(m.type());
    if (!letter && m.empty())
        letter = 'f';
    CV_Assert(letter && m.dims <= 2 && littleEndian());
    const Mat data = m.isContinuous() ? m : m.clone();
    const size_t bytes = data.total() * data.elemSize();
    fs << key << "{" << "payload" << "base64" << "dt" << String(1, letter) << "rows" << data.rows
       << "cols" << data.cols << "chunks" << "[";
    const size_t bytesPerChunk = kPayloadChunkChars / 4 * 3;
    String text;
    for (size_t at = 0; at < bytes; at += bytesPerChunk)
    {
        encode(data.data + at, std::min(bytesPerChunk, bytes - at), text);
        fs << String(1, kChunkMark) + text;
    }
    fs << "]" << "}";
}

bool isPayload(const FileNode& node)
{
    return node.isMap() && node["payload"].isString();
}

Mat readPayload(const FileNode& node, const char* key, const String& where)
{
    auto fail = [&](const String& what) {
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: payload '%s' %s", where.c_str(), key, what.c_str()));
    };
    if (!isPayload(node) || (String)node["payload"] != "base64")
        fail("is not a base64 payload");
    CV_Assert(littleEndian());
    const FileNode dt = node["dt"], rowsNode = node["rows"], colsNode = node["cols"];
    const FileNode chunks = node["chunks"];
    // XML writes a sequence of one string as that string, and an empty one as nothing
    if (!dt.isString() || !rowsNode.isInt() || !colsNode.isInt() ||
        !(chunks.isSeq() || chunks.isString() || chunks.isNone()))
        fail("lacks dt, rows, cols or chunks");
    const String letter = (String)dt;
    const int type = letter.size() == 1 ? typeOfLetter(letter[0]) : -1;
    const int rows = (int)rowsNode, cols = (int)colsNode;
    if (type < 0)
        fail("has an unsupported element type '" + letter + "'");
    if (rows < 0 || cols < 0)
        fail(cv::format("declares an invalid shape %dx%d", rows, cols));
    const int64 expected = (int64)rows * cols * CV_ELEM_SIZE(type);

    // What the chunks hold, from their lengths alone: checked before anything is allocated, so a
    // damaged header cannot ask for gigabytes.
    std::vector<FileNode> chunkNodes;
    if (chunks.isString())
        chunkNodes.push_back(chunks);
    else if (chunks.isSeq())
        for (FileNodeIterator it = chunks.begin(); it != chunks.end(); ++it)
            chunkNodes.push_back(*it);
    std::vector<String> texts;
    texts.reserve(chunkNodes.size());
    int64 held = 0;
    for (const FileNode& chunk : chunkNodes)
    {
        const String text = chunk.isString() ? (String)chunk : String();
        const bool last = texts.size() + 1 == chunkNodes.size();
        if (text.size() < 5 || text[0] != kChunkMark || (text.size() - 1) % 4 ||
            (!last && text.size() != (size_t)kPayloadChunkChars + 1))
            fail(cv::format("chunk %d has the wrong length or form", (int)texts.size()));
        const size_t n = text.size() - 1;
        held += (int64)(n / 4 * 3) - (text[n] == '=') - (text[n] == '=' && text[n - 1] == '=');
        texts.push_back(text.substr(1));
    }
    if (held != expected)
        fail(cv::format("declares %dx%d values of type '%s' (%lld bytes) but holds %lld bytes", rows, cols,
                        letter.c_str(), (long long)expected, (long long)held));
    Mat m(rows, cols, type);
    int64 at = 0;
    for (size_t i = 0; i < texts.size(); i++)
    {
        const int64 got = decode(texts[i], i + 1 == texts.size(), m.data + at, expected - at);
        if (got < 0)
            fail(cv::format("chunk %d is not valid base64", (int)i));
        at += got;
    }
    return m;
}

}}} // namespace cv::dmad::persistence
