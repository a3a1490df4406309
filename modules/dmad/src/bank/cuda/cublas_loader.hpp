// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_CUBLAS_LOADER_HPP
#define OPENCV_DMAD_CUBLAS_LOADER_HPP

// cuBLAS, loaded with dlopen by the first CUDA search instead of linked: linking it makes every
// process that loads opencv_dmad map libcublasLt (540 MB) at start-up, about 0.5 s measured on
// the build machine, whether it ever uses the GPU or not.

#include <opencv2/core.hpp>

#include <cublas_v2.h>

namespace cv {
namespace dmad {

//! The cuBLAS entry points the search uses.
struct CublasApi
{
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) setStream;
    decltype(&cublasSetMathMode) setMathMode;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasGetStatusString) statusString;
};

/** cuBLAS of the toolkit's major version (libcublas.so.13 for CUDA 13), loaded once per process;
    nullptr when it cannot be loaded, with the reason in `error`. Thread-safe. */
const CublasApi* loadCublas(String& error);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_CUBLAS_LOADER_HPP
