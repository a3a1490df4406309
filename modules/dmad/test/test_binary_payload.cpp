// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The banks' binary payload (io/binary_payload.hpp): exact round trips in every FileStorage format,
// damage refused with a clear message, and model files written before it still loading.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_tiny_model.hpp"
#include "io/binary_payload.hpp"

namespace opencv_test { namespace {

using namespace cv::dmad::persistence;

Mat readBack(const std::string& path, const char* key)
{
    FileStorage fs(path, FileStorage::READ);
    return readPayload(fs[key], key, "test");
}

void writeOne(const std::string& path, const char* key, const Mat& m)
{
    FileStorage fs(path, FileStorage::WRITE);
    writePayload(fs, key, m);
}

// Sizes around the 3,000 bytes of a chunk (one short of, exactly, one more, two chunks and a bit),
// an empty matrix and a non-continuous view, in float32, float16 and int32, through YAML, XML,
// JSON and gzip: every bit comes back.
TEST(DMAD_BinaryPayload, round_trips_exactly_in_every_format)
{
    TempDir dir;
    RNG rng(3);
    const int bytesPerChunk = kPayloadChunkChars / 4 * 3;
    for (const char* suffix : {".yml", ".xml", ".json", ".yml.gz"})
        for (int type : {CV_32F, CV_16F, CV_32S})
            for (int bytes : {0, 4, bytesPerChunk - 4, bytesPerChunk, bytesPerChunk + 4,
                              2 * bytesPerChunk + 12})
            {
                const int values = bytes / (int)CV_ELEM_SIZE(type);
                Mat m(values > 0 ? 1 : 0, values, type);
                if (m.empty())
                    ;
                else if (type == CV_16F)
                {
                    Mat f(m.size(), CV_32F);
                    rng.fill(f, RNG::NORMAL, 0, 100);
                    f.convertTo(m, CV_16F);
                }
                else
                    rng.fill(m, RNG::UNIFORM, -1e6, 1e6);
                const std::string path = dir.path + "/p" + suffix;
                writeOne(path, "m", m);
                const Mat back = readBack(path, "m");
                SCOPED_TRACE(cv::format("%s type %d, %d bytes", suffix, type, bytes));
                ASSERT_EQ(m.type(), back.type());
                ASSERT_EQ(m.size(), back.size());
                if (!m.empty())  // memcmp's pointers must not be null, even for no bytes
                    EXPECT_EQ(0, std::memcmp(m.data, back.data, m.total() * m.elemSize()));
            }
    // a column of a larger matrix (not continuous)
    Mat big(50, 7, CV_32F);
    rng.fill(big, RNG::NORMAL, 0, 1);
    writeOne(dir.path + "/col.yml", "m", big.col(3));
    EXPECT_EQ(0, cv::norm(big.col(3), readBack(dir.path + "/col.yml", "m"), NORM_INF));
}

TEST(DMAD_BinaryPayload, damage_is_refused_with_its_reason)
{
    TempDir dir;
    Mat m(40, 50, CV_32F);
    RNG(4).fill(m, RNG::NORMAL, 0, 1);
    const std::string good = dir.path + "/good.yml";
    writeOne(good, "m", m);
    const std::string text = readFileBytes(good);
    const size_t firstChunk = text.find("- B") + 2;
    ASSERT_NE(std::string::npos, text.find("- B"));
    const std::string chunkStart = text.substr(firstChunk, 2);  // the mark and one base64 character
    struct Case
    {
        std::string from, to, fragment;
        size_t at;
    };
    const std::vector<Case> cases = {
        {"rows: 40", "rows: 41", "declares 41x50 values of type 'f' (8200 bytes) but holds 8000 bytes", 0},
        {"cols: 50", "cols: -50", "invalid shape 40x-50", 0},
        {"dt: f", "dt: d", "unsupported element type 'd'", 0},
        {chunkStart, chunkStart + "A", "chunk 0 has the wrong length or form", firstChunk},  // one more
        {chunkStart, "B*", "chunk 0 is not valid base64", firstChunk},  // a foreign character
        {chunkStart, "X" + chunkStart.substr(1), "chunk 0 has the wrong length or form", firstChunk},
        {"payload: base64", "payload: hex", "is not a base64 payload", 0},
    };
    for (const Case& c : cases)
    {
        const size_t at = text.find(c.from, c.at);
        ASSERT_NE(std::string::npos, at) << c.from;
        const std::string path = dir.path + "/bad.yml";
        writeFileBytes(path, text.substr(0, at) + c.to + text.substr(at + c.from.size()));
        EXPECT_CV_ERROR(readBack(path, "m"), c.fragment);
    }
}

/** Model files written by the code of commit 1727af5, before the payload (FileStorage BASE64
    matrices; float16 as CV_16U bit patterns), with the image scores that code gave for the micro
    test images (MicroDataset). Their backbone, test/data/micro_pooling.prototxt, is found beside
    them. They must load and score as they did. */
TEST(DMAD_BinaryPayload, model_files_written_before_it_still_load_and_score_the_same)
{
    const MicroDataset data;
    const struct
    {
        const char* file;
        float scores[3];
    } files[] = {
        {"micro_model_format1.yml.gz", {1.43590164f, 2.61257315f, 1.45722353f}},
        {"micro_model_format1_float16.yml", {1.42981505f, 2.60207558f, 1.45182073f}},
    };
    for (const auto& f : files)
    {
        SCOPED_TRACE(f.file);
        Ptr<DMAD> model = DMAD::load(testDataFile(f.file));
        EXPECT_EQ(0, model->getParams().training.syntheticUntilAnnotated) << "synthetic defects in every class";
        const std::vector<float> scores = scoresOf(*model, data.testImages);
        ASSERT_EQ(3u, scores.size());
        for (int i = 0; i < 3; i++)
            EXPECT_NEAR(f.scores[i], scores[i], 1e-5) << "image " << i;
        // saved again, the model is written with the payload and scores the same
        TempDir dir;
        const std::string path = dir.path + "/again.yml";
        model->save(path);
        EXPECT_NE(std::string::npos, readFileBytes(path).find("payload: base64"));
        EXPECT_EQ(scores, scoresOf(*DMAD::load(path), data.testImages));
    }
}

}} // namespace
