// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// FileStorage I/O of the trainable layers, with shape checks on reading.

#ifndef OPENCV_DMAD_NETWORK_PERSISTENCE_HPP
#define OPENCV_DMAD_NETWORK_PERSISTENCE_HPP

#include "nn/nn_layers.hpp"
#include "io/persistence.hpp"

namespace cv {
namespace dmad {
namespace nn {

inline void writeMatrix(FileStorage& fs, const String& key, const Matrix<float>& m)
{
    Mat view((int)m.rows(), (int)m.cols(), CV_32F, const_cast<float*>(m.data()));
    fs << key << view;
}

//! Reads a rows x cols matrix; another shape, type or non-finite values raise cv::Exception.
inline void readMatrix(const FileNode& node, const String& key, int rows, int cols, Matrix<float>& m,
                       const String& where)
{
    const Mat stored = persistence::readMat(node, key.c_str(), where);
    if (stored.type() != CV_32F || stored.rows != rows || stored.cols != cols)
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: '%s' is %dx%d (type %d), expected %dx%d CV_32F", where.c_str(),
                            key.c_str(), stored.rows, stored.cols, stored.type(), rows, cols));
    if (!cv::checkRange(stored))
        CV_Error(Error::StsParseError,
                 cv::format("dmad: %s: '%s' holds NaN or infinite values", where.c_str(), key.c_str()));
    m.resize(rows, cols);
    Mat view(rows, cols, CV_32F, m.data());
    stored.copyTo(view);
}

inline void writeLinear(FileStorage& fs, const String& name, const Linear<float>& layer)
{
    writeMatrix(fs, name + "_weight", layer.weight.value);
    if (layer.hasBias)
        writeMatrix(fs, name + "_bias", layer.bias.value);
}

inline void readLinear(const FileNode& node, const String& name, int in, int out, bool hasBias,
                       Linear<float>& layer, const String& where)
{
    // The stored matrices are read and checked first: the shapes come from the file, and a damaged
    // one must not make resize() allocate gradients and moments for a huge layer.
    Matrix<float> weight, bias;
    readMatrix(node, name + "_weight", out, in, weight, where);
    if (hasBias)
        readMatrix(node, name + "_bias", 1, out, bias, where);
    layer.hasBias = hasBias;
    layer.weight.resize(out, in);
    layer.weight.value = std::move(weight);
    layer.bias.resize(1, hasBias ? out : 0);
    if (hasBias)
        layer.bias.value = std::move(bias);
}

inline void writeBatchNorm(FileStorage& fs, const String& name, const BatchNorm<float>& bn)
{
    writeMatrix(fs, name + "_gamma", bn.gamma.value);
    writeMatrix(fs, name + "_beta", bn.beta.value);
    writeMatrix(fs, name + "_running_mean", bn.runningMean);
    writeMatrix(fs, name + "_running_var", bn.runningVar);
}

inline void readBatchNorm(const FileNode& node, const String& name, int channels, BatchNorm<float>& bn,
                          const String& where)
{
    bn.init(channels);
    readMatrix(node, name + "_gamma", 1, channels, bn.gamma.value, where);
    readMatrix(node, name + "_beta", 1, channels, bn.beta.value, where);
    Matrix<float> mean, var;
    readMatrix(node, name + "_running_mean", 1, channels, mean, where);
    readMatrix(node, name + "_running_var", 1, channels, var, where);
    if ((var.array() < 0).any())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: negative running variance in '%s'",
                                                  where.c_str(), name.c_str()));
    bn.runningMean = mean.row(0);
    bn.runningVar = var.row(0);
}

}}} // namespace cv::dmad::nn

#endif // OPENCV_DMAD_NETWORK_PERSISTENCE_HPP
