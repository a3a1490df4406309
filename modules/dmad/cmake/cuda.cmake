# The CUDA bank search (src/bank/cuda/knn_search_cuda.cu) of the standalone build.
#   DMAD_WITH_CUDA = AUTO (default): built when CMake finds nvcc and cuBLAS; ON: required;
#   OFF: not built (src/bank/cuda/knn_search_cuda_stub.cpp reports "built without CUDA" at run time).
# Sets DMAD_HAVE_CUDA. A macro, because enable_language() must run at file scope; call it from the
# top-level CMakeLists so that the CUDA:: targets are seen by every directory (bench/ links cuBLAS).
include_guard(GLOBAL)
include(CheckLanguage)

set(DMAD_WITH_CUDA AUTO CACHE STRING "Build the CUDA bank search: AUTO (if the CUDA toolkit is found), ON, OFF")
set_property(CACHE DMAD_WITH_CUDA PROPERTY STRINGS AUTO ON OFF)

macro(dmad_detect_cuda)
  set(DMAD_HAVE_CUDA OFF)
  string(TOUPPER "${DMAD_WITH_CUDA}" _dmad_cuda_mode)
  if(NOT _dmad_cuda_mode STREQUAL "OFF")
    # nvcc is often installed outside PATH (/usr/local/cuda/bin); CMake's probe looks in PATH only.
    if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
      find_program(_dmad_nvcc nvcc)
      if(NOT _dmad_nvcc)
        set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
      endif()
    endif()
    check_language(CUDA)
    if(CMAKE_CUDA_COMPILER)
      # H200 (compute capability 9.0) machine code plus PTX that newer GPUs compile at load time;
      # CUDA 13 builds only for 7.5 and newer.
      if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
        set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
      endif()
      set(CMAKE_CUDA_STANDARD 17)  # CUDA 13's headers need C++17 in device code
      set(CMAKE_CUDA_STANDARD_REQUIRED ON)
      enable_language(CUDA)
      find_package(CUDAToolkit)
      if(CUDAToolkit_FOUND AND TARGET CUDA::cublas AND TARGET CUDA::cudart_static)
        set(DMAD_HAVE_CUDA ON)
      endif()
    endif()
    if(NOT DMAD_HAVE_CUDA AND _dmad_cuda_mode STREQUAL "ON")
      message(FATAL_ERROR "dmad: DMAD_WITH_CUDA=ON, but no CUDA compiler with cuBLAS was found "
                          "(set CMAKE_CUDA_COMPILER or CUDAToolkit_ROOT)")
    endif()
  endif()
  if(DMAD_HAVE_CUDA)
    message(STATUS "dmad: CUDA ${CUDAToolkit_VERSION} found: building the CUDA bank search "
                   "(${CMAKE_CUDA_ARCHITECTURES}; -DDMAD_WITH_CUDA=OFF leaves it out)")
  else()
    message(STATUS "dmad: CUDA bank search not built (DMAD_WITH_CUDA=${DMAD_WITH_CUDA})")
  endif()
endmacro()

# The module's CUDA settings: the .cu file and the cuBLAS loader replace the stub. The CUDA runtime
# is linked statically with its symbols kept local (a program may bring its own runtime), and
# cuBLAS is loaded with dlopen on first use (src/bank/cuda/cublas_loader.cpp): linked, it would map
# libcublasLt (540 MB) into every process that loads opencv_dmad, about 0.5 s per start here.
function(dmad_add_cuda_search target)
  target_sources(${target} PRIVATE "${DMAD_MODULE_DIR}/src/bank/cuda/cublas_loader.cpp")
  target_include_directories(${target} SYSTEM PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(${target} PRIVATE CUDA::cudart_static ${CMAKE_DL_LIBS})
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,libcudart_static.a")
  set_source_files_properties("${DMAD_MODULE_DIR}/src/bank/cuda/knn_search_cuda.cu"
    "${DMAD_MODULE_DIR}/src/bank/cuda/cublas_loader.cpp" PROPERTIES
    COMPILE_DEFINITIONS DMAD_BUILD_CUDA_SEARCH)
  set_target_properties(${target} PROPERTIES CUDA_VISIBILITY_PRESET hidden)
endfunction()
