// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Part of the standalone build with CUDA only (cmake/cuda.cmake adds it and defines
// DMAD_BUILD_CUDA_SEARCH); an OpenCV tree globs it too, and there it compiles to nothing.
#ifdef DMAD_BUILD_CUDA_SEARCH

#include "bank/cuda/cublas_loader.hpp"

#include <dlfcn.h>

#include <mutex>

namespace cv {
namespace dmad {

namespace {

struct LoadedCublas
{
    CublasApi api = {};
    bool ok = false;
    String error;

    LoadedCublas()
    {
        // The SONAME of the toolkit dmad was compiled with; minor versions are compatible.
        const String name = cv::format("libcublas.so.%d", CUBLAS_VER_MAJOR);
        void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!lib)
        {
            const char* why = dlerror();
            error = cv::format("cuBLAS could not be loaded (%s; put its folder on LD_LIBRARY_PATH)",
                               why ? why : name.c_str());
            return;
        }
        // never dlclose'd: cuBLAS handles may live until the process ends
        ok = bind(lib, api.create, "cublasCreate_v2") && bind(lib, api.destroy, "cublasDestroy_v2") &&
             bind(lib, api.setStream, "cublasSetStream_v2") &&
             bind(lib, api.setMathMode, "cublasSetMathMode") &&
             bind(lib, api.sgemm, "cublasSgemm_v2") &&
             bind(lib, api.statusString, "cublasGetStatusString");
    }

    template <typename Fn>
    bool bind(void* lib, Fn& fn, const char* symbol)
    {
        fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
        if (!fn)
            error = cv::format("cuBLAS was loaded but lacks %s", symbol);
        return fn != nullptr;
    }
};

} // namespace

const CublasApi* loadCublas(String& error)
{
    static const LoadedCublas loaded;  // thread-safe initialisation, once
    error = loaded.error;
    return loaded.ok ? &loaded.api : nullptr;
}

}} // namespace cv::dmad

#endif // DMAD_BUILD_CUDA_SEARCH
