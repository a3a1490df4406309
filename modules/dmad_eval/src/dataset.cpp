// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Dataset readers (MVTec-AD folders, VisA split CSV, a good/bad folder pair), the annotated-anomaly
// picker and the mask loader.

#include "precomp.hpp"

#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <map>
#include <set>

namespace cv {
namespace dmad {

namespace fs = cv::utils::fs;

int DatasetSplit::classIndex(const String& className) const
{
    for (size_t i = 0; i < classes.size(); i++)
        if (classes[i] == className)
            return (int)i;
    return -1;
}

bool DatasetSplit::hasMasks(const String& className) const
{
    const int idx = classIndex(className);
    if (idx < 0)
        CV_Error(Error::StsBadArg, "dmad: the dataset has no class '" + className + "'");
    CV_Assert(classHasMasks.size() == classes.size());
    return classHasMasks[idx];
}

static std::vector<DatasetSample> samplesOf(const DatasetSplit& split,
                                            const std::vector<DatasetSample>& samples,
                                            const String& className)
{
    if (split.classIndex(className) < 0)
        CV_Error(Error::StsBadArg, "dmad: the dataset has no class '" + className + "'");
    std::vector<DatasetSample> result;
    for (const DatasetSample& s : samples)
        if (s.className == className)
            result.push_back(s);
    return result;
}

std::vector<DatasetSample> DatasetSplit::trainOf(const String& className) const
{
    return samplesOf(*this, train, className);
}

std::vector<DatasetSample> DatasetSplit::testOf(const String& className) const
{
    return samplesOf(*this, test, className);
}

namespace {

String toLower(String s)
{
    for (char& c : s)
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
    return s;
}

String fileName(const String& path)
{
    const size_t slash = path.find_last_of("/\\");
    return slash == String::npos ? path : path.substr(slash + 1);
}

//! File name without its last extension.
String stemOf(const String& path)
{
    const String name = fileName(path);
    const size_t dot = name.find_last_of('.');
    return dot == String::npos || dot == 0 ? name : name.substr(0, dot);
}

void requireDirectory(const String& dir, const char* what)
{
    if (!fs::isDirectory(dir))
        CV_Error(Error::StsObjectNotFound,
                 cv::format("dmad: %s '%s' does not exist or is not a folder", what, dir.c_str()));
}

void requireFile(const String& path, const char* what)
{
    if (!fs::exists(path) || fs::isDirectory(path))
        CV_Error(Error::StsObjectNotFound,
                 cv::format("dmad: %s '%s' does not exist", what, path.c_str()));
}

//! Names (not paths) of the image files directly in a folder: listImageFiles() without the folder.
std::vector<String> imageNames(const String& dir)
{
    std::vector<String> names;
    for (const String& path : listImageFiles(dir))
        names.push_back(fileName(path));
    return names;
}

//! Names of the subfolders of a folder, sorted byte-wise; hidden ones are left out.
std::vector<String> subfolders(const String& dir)
{
    std::vector<String> names, result;
    fs::glob_relative(dir, String(), names, false, true);
    for (const String& name : names)
        if (!name.empty() && name[0] != '.' && fs::isDirectory(fs::join(dir, name)))
            result.push_back(name);
    std::sort(result.begin(), result.end());
    return result;
}

bool sampleLess(const DatasetSample& a, const DatasetSample& b)
{
    return a.imagePath < b.imagePath;
}

//! Orders samples by class (in `classes` order), then by image path.
void sortByClass(std::vector<DatasetSample>& samples, const std::vector<String>& classes)
{
    std::map<String, int> order;
    for (size_t i = 0; i < classes.size(); i++)
        order[classes[i]] = (int)i;
    std::stable_sort(samples.begin(), samples.end(),
                     [&](const DatasetSample& a, const DatasetSample& b) {
                         const int ca = order[a.className], cb = order[b.className];
                         return ca != cb ? ca < cb : sampleLess(a, b);
                     });
}

void checkUniqueClasses(const std::vector<String>& classes)
{
    std::set<String> seen;
    for (const String& c : classes)
    {
        if (c.empty())
            CV_Error(Error::StsBadArg, "dmad: an empty class name was requested");
        if (!seen.insert(c).second)
            CV_Error(Error::StsBadArg, "dmad: class '" + c + "' is requested twice");
    }
}

/** Fisher-Yates with cv::RNG, in the order Python's random.shuffle uses (last element first). */
template <typename T>
void seededShuffle(std::vector<T>& items, uint64 seed)
{
    RNG rng(seed);
    for (int i = (int)items.size() - 1; i > 0; i--)
        std::swap(items[i], items[rng.uniform(0, i + 1)]);
}

/** Maps mask stems to mask paths in `dir`; `suffix` ("_mask") is removed from the stem when
    present. Two files with the same key are an error (which one is meant cannot be told). */
std::map<String, String> indexMasks(const String& dir, const String& suffix, bool plainStemsToo)
{
    std::map<String, String> index;
    for (const String& name : imageNames(dir))
    {
        String key = stemOf(name);
        const bool hasSuffix = key.size() > suffix.size() &&
                               key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
        if (hasSuffix)
            key = key.substr(0, key.size() - suffix.size());
        else if (!plainStemsToo)
            continue;
        const String path = fs::join(dir, name);
        auto inserted = index.insert(std::make_pair(key, path));
        if (!inserted.second)
            CV_Error(Error::StsBadArg,
                     cv::format("dmad: two masks '%s' and '%s' match the same image stem '%s'",
                                inserted.first->second.c_str(), path.c_str(), key.c_str()));
    }
    return index;
}

void readMVTecClass(const String& root, const String& cls, DatasetSplit& split)
{
    const String classDir = fs::join(root, cls);
    requireDirectory(classDir, "MVTec class folder");
    const String trainDir = fs::join(fs::join(classDir, "train"), "good");
    const String testDir = fs::join(classDir, "test");
    const String gtDir = fs::join(classDir, "ground_truth");
    requireDirectory(trainDir, "MVTec training folder");
    requireDirectory(testDir, "MVTec test folder");

    const std::vector<String> trainNames = imageNames(trainDir);
    if (trainNames.empty())
        CV_Error(Error::StsObjectNotFound,
                 "dmad: no training image (png, jpg, bmp, tif) in '" + trainDir + "'");
    for (const String& name : trainNames)
    {
        DatasetSample s;
        s.imagePath = fs::join(trainDir, name);
        s.className = cls;
        s.defectType = "good";
        split.train.push_back(s);
    }

    const bool hasMasks = fs::isDirectory(gtDir);
    for (const String& type : subfolders(testDir))
    {
        const String typeDir = fs::join(testDir, type);
        const bool anomalous = type != "good";
        std::map<String, String> masks;
        if (anomalous && hasMasks && fs::isDirectory(fs::join(gtDir, type)))
            masks = indexMasks(fs::join(gtDir, type), "_mask", false);
        for (const String& name : imageNames(typeDir))
        {
            DatasetSample s;
            s.imagePath = fs::join(typeDir, name);
            s.className = cls;
            s.defectType = type;
            s.anomalous = anomalous;
            if (anomalous && hasMasks)
            {
                auto it = masks.find(stemOf(name));
                if (it == masks.end())
                    CV_Error(Error::StsObjectNotFound, cv::format(
                        "dmad: mask '%s' of defect image '%s' is missing (class '%s' has a "
                        "ground_truth folder, so every defect image needs a mask)",
                        fs::join(fs::join(gtDir, type), stemOf(name) + "_mask.png").c_str(),
                        s.imagePath.c_str(), cls.c_str()));
                s.maskPath = it->second;
            }
            split.test.push_back(s);
        }
    }
    split.classes.push_back(cls);
    split.classHasMasks.push_back(hasMasks);
}

//! Splits one CSV line; fields may be double-quoted (with "" for a quote inside).
std::vector<String> splitCsvLine(const String& line, const String& where)
{
    std::vector<String> fields;
    String field;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); i++)
    {
        const char c = line[i];
        if (quoted)
        {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                field += '"', i++;
            else if (c == '"')
                quoted = false;
            else
                field += c;
        }
        else if (c == '"')
            quoted = true;
        else if (c == ',')
            fields.push_back(field), field.clear();
        else if (c != '\r')
            field += c;
    }
    if (quoted)
        CV_Error(Error::StsParseError, "dmad: unterminated quote in " + where);
    fields.push_back(field);
    return fields;
}

} // namespace

DatasetSplit readMVTecDataset(const String& root, const std::vector<String>& classes)
{
    CV_TRACE_FUNCTION();
    requireDirectory(root, "MVTec dataset folder");
    std::vector<String> names = classes;
    if (names.empty())
    {
        names = subfolders(root);
        if (names.empty())
            CV_Error(Error::StsObjectNotFound, "dmad: no class folder in '" + root + "'");
    }
    checkUniqueClasses(names);
    DatasetSplit split;
    for (const String& cls : names)
        readMVTecClass(root, cls, split);
    sortByClass(split.train, split.classes);
    sortByClass(split.test, split.classes);
    return split;
}

DatasetSplit mergeDatasets(const std::vector<DatasetSplit>& parts)
{
    DatasetSplit merged;
    for (const DatasetSplit& part : parts)
    {
        if (part.classHasMasks.size() != part.classes.size())
            CV_Error(Error::StsBadArg, "dmad: mergeDatasets: a part's classHasMasks does not match its classes");
        merged.classes.insert(merged.classes.end(), part.classes.begin(), part.classes.end());
        merged.classHasMasks.insert(merged.classHasMasks.end(), part.classHasMasks.begin(),
                                    part.classHasMasks.end());
        merged.train.insert(merged.train.end(), part.train.begin(), part.train.end());
        merged.test.insert(merged.test.end(), part.test.begin(), part.test.end());
    }
    checkUniqueClasses(merged.classes);
    sortByClass(merged.train, merged.classes);
    sortByClass(merged.test, merged.classes);
    return merged;
}

DatasetSplit readVisADataset(const String& root, const std::vector<String>& classes,
                             const String& splitFile)
{
    CV_TRACE_FUNCTION();
    requireDirectory(root, "VisA dataset folder");
    checkUniqueClasses(classes);
    const bool absolute = !splitFile.empty() &&
                          (splitFile[0] == '/' || (splitFile.size() > 1 && splitFile[1] == ':'));
    const String csvPath = absolute ? splitFile : fs::join(root, splitFile);
    std::ifstream in(csvPath.c_str());
    if (!in)
        CV_Error(Error::StsObjectNotFound, "dmad: cannot open VisA split file '" + csvPath + "'");

    String line;
    if (!std::getline(in, line))
        CV_Error(Error::StsParseError, "dmad: VisA split file '" + csvPath + "' is empty");
    const std::vector<String> header = splitCsvLine(line, csvPath + " line 1");
    const char* const kColumns[] = { "object", "split", "label", "image", "mask" };
    int col[5];
    for (int k = 0; k < 5; k++)
    {
        col[k] = -1;
        for (size_t i = 0; i < header.size(); i++)
            if (toLower(header[i]) == kColumns[k])
                col[k] = (int)i;
        if (col[k] < 0)
            CV_Error(Error::StsParseError,
                     cv::format("dmad: VisA split file '%s' has no column '%s'", csvPath.c_str(),
                                kColumns[k]));
    }

    const std::set<String> wanted(classes.begin(), classes.end());
    std::set<String> found, withMasks;
    DatasetSplit split;
    std::vector<DatasetSample> maskless;  // anomalous rows without a mask, checked per class below
    int lineNo = 1;
    while (std::getline(in, line))
    {
        lineNo++;
        if (line.empty() || line == "\r")
            continue;
        const String where = cv::format("%s line %d", csvPath.c_str(), lineNo);
        const std::vector<String> f = splitCsvLine(line, where);
        if (f.size() < header.size())
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s has %d fields, the header %d", where.c_str(),
                                (int)f.size(), (int)header.size()));
        const String object = f[col[0]], splitName = toLower(f[col[1]]);
        const String label = toLower(f[col[2]]), image = f[col[3]], mask = f[col[4]];
        if (object.empty() || image.empty())
            CV_Error(Error::StsParseError,
                     "dmad: " + where + " has an empty object or image field");
        found.insert(object);
        if (!wanted.empty() && !wanted.count(object))
            continue;
        if (label != "normal" && label != "anomaly")
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: label '%s' is neither 'normal' nor 'anomaly'",
                                where.c_str(), label.c_str()));
        if (splitName != "train" && splitName != "test")
            CV_Error(Error::StsParseError,
                     cv::format("dmad: %s: split '%s' is neither 'train' nor 'test'",
                                where.c_str(), splitName.c_str()));
        DatasetSample s;
        s.className = object;
        s.anomalous = label == "anomaly";
        s.defectType = s.anomalous ? "anomaly" : "good";
        s.imagePath = fs::join(root, image);
        requireFile(s.imagePath, ("image named at " + where + ",").c_str());
        if (!mask.empty())
        {
            if (!s.anomalous)
                CV_Error(Error::StsParseError,
                         "dmad: " + where + " gives a mask to a normal image");
            s.maskPath = fs::join(root, mask);
            requireFile(s.maskPath, ("mask named at " + where + ",").c_str());
            withMasks.insert(object);
        }
        if (splitName == "train")
        {
            if (s.anomalous)
                CV_Error(Error::StsBadArg, "dmad: " + where + " puts an anomaly in the training "
                                           "split (training takes normal images only)");
            split.train.push_back(s);
        }
        else
        {
            split.test.push_back(s);
            if (s.anomalous && s.maskPath.empty())
                maskless.push_back(s);
        }
    }

    std::vector<String> names = classes;
    if (names.empty())
        names.assign(found.begin(), found.end());
    for (const String& cls : names)
        if (!found.count(cls))
            CV_Error(Error::StsObjectNotFound,
                     "dmad: class '" + cls + "' is not in '" + csvPath + "'");
    if (names.empty())
        CV_Error(Error::StsParseError, "dmad: VisA split file '" + csvPath + "' has no rows");
    for (const DatasetSample& s : maskless)
        if (withMasks.count(s.className))
            CV_Error(Error::StsParseError, cv::format(
                "dmad: anomalous image '%s' has no mask in '%s', but other images of class '%s' do",
                s.imagePath.c_str(), csvPath.c_str(), s.className.c_str()));
    split.classes = names;
    for (const String& cls : names)
        split.classHasMasks.push_back(withMasks.count(cls) != 0);
    sortByClass(split.train, split.classes);
    sortByClass(split.test, split.classes);
    return split;
}

DatasetSplit readFolderDataset(const String& goodDir, const String& badDir, const String& maskDir,
                               double testGoodFraction, uint64 seed, const String& className)
{
    CV_TRACE_FUNCTION();
    if (!(testGoodFraction >= 0.0 && testGoodFraction < 1.0))
        CV_Error(Error::StsOutOfRange,
                 cv::format("dmad: testGoodFraction %g must be in [0, 1)", testGoodFraction));
    if (className.empty())
        CV_Error(Error::StsBadArg, "dmad: readFolderDataset needs a class name");
    requireDirectory(goodDir, "folder of good images");
    std::vector<String> good = imageNames(goodDir);
    if (good.empty())
        CV_Error(Error::StsObjectNotFound,
                 "dmad: no image (png, jpg, bmp, tif) in the good folder '" + goodDir + "'");

    const int nHeld = cvRound(testGoodFraction * (double)good.size());
    if (nHeld >= (int)good.size())
        CV_Error(Error::StsBadArg, cv::format("dmad: testGoodFraction %g leaves no training image "
                                              "of the %d in '%s'", testGoodFraction,
                                              (int)good.size(), goodDir.c_str()));
    std::vector<String> shuffled = good;
    seededShuffle(shuffled, seed);
    const std::set<String> held(shuffled.begin(), shuffled.begin() + nHeld);

    DatasetSplit split;
    split.classes.push_back(className);
    split.classHasMasks.push_back(!maskDir.empty());
    for (const String& name : good)
    {
        DatasetSample s;
        s.imagePath = fs::join(goodDir, name);
        s.className = className;
        s.defectType = "good";
        (held.count(name) ? split.test : split.train).push_back(s);
    }

    if (!badDir.empty())
    {
        requireDirectory(badDir, "folder of defect images");
        std::map<String, String> masks;
        if (!maskDir.empty())
        {
            requireDirectory(maskDir, "mask folder");
            masks = indexMasks(maskDir, "_mask", true);
        }
        for (const String& name : imageNames(badDir))
        {
            DatasetSample s;
            s.imagePath = fs::join(badDir, name);
            s.className = className;
            s.defectType = "bad";
            s.anomalous = true;
            if (!maskDir.empty())
            {
                auto it = masks.find(stemOf(name));
                if (it == masks.end())
                    CV_Error(Error::StsObjectNotFound, cv::format(
                        "dmad: no mask '%s_mask.<ext>' or '%s.<ext>' in '%s' for defect image '%s'",
                        stemOf(name).c_str(), stemOf(name).c_str(), maskDir.c_str(),
                        s.imagePath.c_str()));
                s.maskPath = it->second;
            }
            split.test.push_back(s);
        }
    }
    else if (!maskDir.empty())
        CV_Error(Error::StsBadArg,
                 "dmad: a mask folder was given without a folder of defect images");
    sortByClass(split.train, split.classes);
    sortByClass(split.test, split.classes);
    return split;
}

DatasetSplit takeAnnotatedAnomalies(const DatasetSplit& split, int perClass, uint64 seed,
                                    std::vector<DatasetSample>& taken, bool allowFewer)
{
    CV_TRACE_FUNCTION();
    if (perClass < 0)
        CV_Error(Error::StsOutOfRange,
                 cv::format("dmad: perClass %d must not be negative", perClass));
    taken.clear();
    std::set<String> takenPaths;
    for (const String& cls : split.classes)
    {
        std::vector<DatasetSample> anomalies;
        for (const DatasetSample& s : split.test)
            if (s.className == cls && s.anomalous)
                anomalies.push_back(s);
        std::sort(anomalies.begin(), anomalies.end(), sampleLess);
        if ((int)anomalies.size() < perClass)
        {
            const String msg = cv::format("dmad: class '%s' has %d anomalous test images, %d "
                                          "were asked for", cls.c_str(), (int)anomalies.size(),
                                          perClass);
            if (!allowFewer)
                CV_Error(Error::StsBadArg, msg + " (pass allowFewer=true to take them all)");
            CV_LOG_WARNING(NULL, msg << "; taking all of them");
        }
        seededShuffle(anomalies, seed);
        const size_t k = std::min(anomalies.size(), (size_t)perClass);
        for (size_t i = 0; i < k; i++)
        {
            taken.push_back(anomalies[i]);
            takenPaths.insert(anomalies[i].imagePath);
        }
    }
    DatasetSplit result = split;
    result.test.clear();
    for (const DatasetSample& s : split.test)
        if (!(s.anomalous && takenPaths.count(s.imagePath)))
            result.test.push_back(s);
    return result;
}

void readMask(const String& maskPath, Size size, OutputArray mask)
{
    if (maskPath.empty())
    {
        if (size.empty())
            CV_Error(Error::StsBadArg, "dmad: readMask needs a size when there is no mask file");
        mask.create(size, CV_8UC1);
        mask.setTo(Scalar::all(0));
        return;
    }
    requireFile(maskPath, "mask file");
    // ANYDEPTH | ANYCOLOR keeps 16-bit and colour masks as they are but drops an alpha channel.
    const Mat raw = imread(maskPath, IMREAD_ANYDEPTH | IMREAD_ANYCOLOR);
    if (raw.empty())
        CV_Error(Error::StsError, "dmad: cannot decode mask file '" + maskPath + "'");
    Mat binary;
    if (raw.channels() == 1)
        binary = raw != 0;
    else
    {
        std::vector<Mat> planes;
        split(raw, planes);
        binary = planes[0] != 0;
        for (size_t c = 1; c < planes.size(); c++)
            binary |= planes[c] != 0;
    }
    if (!size.empty() && size != binary.size())
        resize(binary, mask, size, 0, 0, INTER_NEAREST);
    else
        binary.copyTo(mask);
}

void readMask(const DatasetSample& sample, Size size, OutputArray mask)
{
    if (sample.anomalous && sample.maskPath.empty())
        CV_Error(Error::StsBadArg, "dmad: anomalous image '" + sample.imagePath + "' has no mask "
                                   "(its class has none); it cannot be given an all-zero mask");
    readMask(sample.maskPath, size, mask);
}

}} // namespace cv::dmad
