// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The synthetic dataset's public side: one sample at a time, or the whole dataset written in
// MVTec AD layout with a marker file that makes a second call a no-op.

#include "precomp.hpp"
#include "render_random.hpp"
#include "synthetic_render.hpp"

#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>

namespace cv {
namespace dmad {

namespace {

const char* const kGenerator = "cv::dmad::generateSyntheticDataset";
//! Bumped whenever the renderer changes its output, so that old datasets are regenerated.
const int kRendererVersion = 1;

String knownClasses()
{
    String all;
    for (const synth::ClassSpec& c : synth::classSpecs())
        all += (all.empty() ? "" : ", ") + String(c.name);
    return all;
}

int findClass(const String& name)
{
    const std::vector<synth::ClassSpec>& specs = synth::classSpecs();
    for (size_t i = 0; i < specs.size(); i++)
        if (name == specs[i].name)
            return (int)i;
    CV_Error(Error::StsBadArg, cv::format("dmad: unknown synthetic class '%s' (known: %s)",
                                          name.c_str(), knownClasses().c_str()));
}

//! -1 for "good".
int findDefect(int cls, const String& type)
{
    if (type == "good")
        return -1;
    const synth::ClassSpec& spec = synth::classSpecs()[cls];
    String known = "good";
    for (size_t i = 0; i < spec.defects.size(); i++)
    {
        if (type == spec.defects[i].name)
            return (int)i;
        known += String(", ") + spec.defects[i].name;
    }
    CV_Error(Error::StsBadArg, cv::format("dmad: class '%s' has no defect type '%s' (known: %s)",
                                          spec.name, type.c_str(), known.c_str()));
}

void checkImageSize(int size)
{
    if (size < 32 || size > 2048)
        CV_Error(Error::StsOutOfRange,
                 cv::format("dmad: synthetic image size %d is outside 32..2048", size));
}

void renderSample(int cls, int defect, int seed, int index, int size, Mat& image, Mat& mask,
                  Mat& clean)
{
    const synth::ClassSpec& spec = synth::classSpecs()[cls];
    const String type = defect < 0 ? String("good") : String(spec.defects[defect].name);
    uint64 state = synth::mixSeed((uint64)(int64)seed, synth::hashName(spec.name));
    state = synth::mixSeed(state, synth::hashName(type));
    state = synth::mixSeed(state, (uint64)(int64)index);
    RNG rng(state ? state : 1);

    synth::Scene scene;
    synth::renderScene(cls, size, rng, scene);
    synth::developImage(scene, scene.albedo, spec.gray, clean);
    if (defect < 0)
    {
        image = clean;
        mask = Mat::zeros(clean.size(), CV_8U);
        return;
    }
    Mat albedo, defective;
    synth::paintDefect(scene, spec.defects[defect].kind, rng, albedo, mask);
    synth::developImage(scene, albedo, spec.gray, defective);
    // The albedo only changed inside the mask; copying through it makes that exact on the bytes.
    image = clean.clone();
    defective.copyTo(image, mask);
}

struct Marker
{
    int version = 0, seed = 0, trainCount = 0, testGoodCount = 0, testDefectCount = 0;
    int imageSize = 0, complete = 0;
    std::vector<String> classes;

    bool sameDataset(const Marker& o) const
    {
        return version == o.version && seed == o.seed && trainCount == o.trainCount &&
               testGoodCount == o.testGoodCount && testDefectCount == o.testDefectCount &&
               imageSize == o.imageSize && classes == o.classes;
    }
};

void writeMarker(const String& path, const Marker& m)
{
    FileStorage fs(path, FileStorage::WRITE);
    if (!fs.isOpened())
        CV_Error(Error::StsError, cv::format("dmad: cannot write '%s'", path.c_str()));
    fs << "generator" << kGenerator << "version" << m.version << "seed" << m.seed
       << "trainCount" << m.trainCount << "testGoodCount" << m.testGoodCount
       << "testDefectCount" << m.testDefectCount << "imageSize" << m.imageSize
       << "classes" << m.classes << "complete" << m.complete;
}

//! False when the file is not a marker this function wrote.
bool readMarker(const String& path, Marker& m)
{
    try
    {
        FileStorage fs(path, FileStorage::READ);
        if (!fs.isOpened() || (String)fs["generator"] != kGenerator)
            return false;
        fs["version"] >> m.version;
        fs["seed"] >> m.seed;
        fs["trainCount"] >> m.trainCount;
        fs["testGoodCount"] >> m.testGoodCount;
        fs["testDefectCount"] >> m.testDefectCount;
        fs["imageSize"] >> m.imageSize;
        fs["classes"] >> m.classes;
        fs["complete"] >> m.complete;
        return true;
    }
    catch (const cv::Exception&)
    {
        return false;
    }
}

struct Job
{
    int cls, defect, index;
    String image, mask;  //!< file paths; mask empty for good images
};

std::vector<Job> listJobs(const String& root, const std::vector<int>& classes,
                          const SyntheticDatasetParams& p)
{
    std::vector<Job> jobs;
    for (int cls : classes)
    {
        const synth::ClassSpec& spec = synth::classSpecs()[cls];
        const String dir = root + "/" + spec.name;
        for (int i = 0; i < p.trainCount; i++)
            jobs.push_back({ cls, -1, i, dir + cv::format("/train/good/%03d.png", i), String() });
        for (int i = 0; i < p.testGoodCount; i++)
            jobs.push_back({ cls, -1, -1 - i, dir + cv::format("/test/good/%03d.png", i),
                             String() });
        const int types = (int)spec.defects.size();
        for (int t = 0; t < types; t++)
        {
            const int count = p.testDefectCount / types + (t < p.testDefectCount % types ? 1 : 0);
            const String type = spec.defects[t].name;
            for (int i = 0; i < count; i++)
                jobs.push_back({ cls, t, i, dir + "/test/" + type + cv::format("/%03d.png", i),
                                 dir + "/ground_truth/" + type + cv::format("/%03d_mask.png", i) });
        }
    }
    return jobs;
}

String parentOf(const String& path) { return path.substr(0, path.find_last_of('/')); }

} // namespace

SyntheticDatasetParams::SyntheticDatasetParams()
    : seed(1), trainCount(40), testGoodCount(10), testDefectCount(16), imageSize(256)
{
}

std::vector<String> syntheticClassNames()
{
    std::vector<String> names;
    for (const synth::ClassSpec& c : synth::classSpecs())
        names.push_back(c.name);
    return names;
}

std::vector<String> syntheticDefectTypes(const String& className)
{
    std::vector<String> types;
    for (const synth::DefectSpec& d : synth::classSpecs()[findClass(className)].defects)
        types.push_back(d.name);
    return types;
}

void renderSyntheticSample(const String& className, const String& defectType, int seed, int index,
                           int imageSize, OutputArray _image, OutputArray _mask, OutputArray _clean)
{
    CV_TRACE_FUNCTION();
    const int cls = findClass(className);
    const int defect = findDefect(cls, defectType);
    checkImageSize(imageSize);
    Mat image, mask, clean;
    renderSample(cls, defect, seed, index, imageSize, image, mask, clean);
    image.copyTo(_image);
    mask.copyTo(_mask);
    if (_clean.needed())
        clean.copyTo(_clean);
}

bool generateSyntheticDataset(const String& root, const SyntheticDatasetParams& p)
{
    CV_TRACE_FUNCTION();
    if (root.empty())
        CV_Error(Error::StsBadArg, "dmad: generateSyntheticDataset needs a root folder");
    checkImageSize(p.imageSize);
    if (p.trainCount < 1 || p.trainCount > 100000 || p.testGoodCount < 0 ||
        p.testGoodCount > 100000 || p.testDefectCount < 0 || p.testDefectCount > 100000)
        CV_Error(Error::StsOutOfRange,
                 cv::format("dmad: image counts train %d, test good %d, test defect %d are invalid "
                            "(train 1..100000, tests 0..100000)", p.trainCount, p.testGoodCount,
                            p.testDefectCount));
    std::vector<int> classes;
    for (const String& name : p.classes.empty() ? syntheticClassNames() : p.classes)
    {
        const int cls = findClass(name);
        if (std::find(classes.begin(), classes.end(), cls) != classes.end())
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: class '%s' is listed twice", name.c_str()));
        classes.push_back(cls);
    }

    Marker wanted;
    wanted.version = kRendererVersion;
    wanted.seed = p.seed;
    wanted.trainCount = p.trainCount;
    wanted.testGoodCount = p.testGoodCount;
    wanted.testDefectCount = p.testDefectCount;
    wanted.imageSize = p.imageSize;
    for (int cls : classes)
        wanted.classes.push_back(synth::classSpecs()[cls].name);
    const std::vector<Job> jobs = listJobs(root, classes, p);

    const String markerPath = root + "/dataset.yml";
    std::vector<String> stale;  // class folders an earlier call wrote
    if (utils::fs::exists(markerPath))
    {
        Marker found;
        if (!readMarker(markerPath, found))
            CV_Error(Error::StsError,
                     cv::format("dmad: '%s' was not written by generateSyntheticDataset; choose "
                                "another folder for the synthetic dataset", markerPath.c_str()));
        if (found.complete && found.sameDataset(wanted))
        {
            bool allThere = true;
            for (const Job& j : jobs)
                allThere = allThere && utils::fs::exists(j.image) &&
                           (j.mask.empty() || utils::fs::exists(j.mask));
            if (allThere)
                return false;
        }
        stale = found.classes;
        CV_LOG_INFO(NULL, "dmad: synthetic dataset in " << root << " is out of date, regenerating");
    }
    for (const String& name : wanted.classes)
        if (utils::fs::exists(root + "/" + name) &&
            std::find(stale.begin(), stale.end(), name) == stale.end())
            CV_Error(Error::StsError,
                     cv::format("dmad: '%s/%s' exists but was not written by "
                                "generateSyntheticDataset (no matching %s); choose another folder",
                                root.c_str(), name.c_str(), markerPath.c_str()));
    // Only folders named like a class are ever removed, whatever the marker says.
    const std::vector<String> known = syntheticClassNames();
    for (const String& name : stale)
        if (std::find(known.begin(), known.end(), name) != known.end())
            utils::fs::remove_all(root + "/" + name);

    for (const Job& j : jobs)
    {
        for (const String& file : { j.image, j.mask })
            if (!file.empty() && !utils::fs::createDirectories(parentOf(file)))
                CV_Error(Error::StsError, cv::format("dmad: cannot create folder '%s'",
                                                     parentOf(file).c_str()));
    }
    writeMarker(markerPath, wanted);  // incomplete: an interrupted run is regenerated next time

    std::mutex failureLock;
    String failure;
    parallel_for_(Range(0, (int)jobs.size()), [&](const Range& range) {
        for (int i = range.start; i < range.end; i++)
        {
            const Job& j = jobs[i];
            try
            {
                Mat image, mask, clean;
                renderSample(j.cls, j.defect, p.seed, j.index, p.imageSize, image, mask, clean);
                if (!imwrite(j.image, image) || (!j.mask.empty() && !imwrite(j.mask, mask)))
                    CV_Error(Error::StsError,
                             cv::format("dmad: cannot write '%s'", j.image.c_str()));
            }
            catch (const cv::Exception& e)
            {
                std::lock_guard<std::mutex> lock(failureLock);
                if (failure.empty())
                    failure = e.err;
            }
        }
    });
    if (!failure.empty())
        CV_Error(Error::StsError, failure);

    wanted.complete = 1;
    writeMarker(markerPath, wanted);
    return true;
}

}} // namespace cv::dmad
