# Third-party dependencies shared by both builds. All come from Debian packages:
# libeigen3-dev (header-only linear algebra), libnanoflann-dev (header-only KD-tree) and zlib1g-dev
# (the checksum of saved files and reading them back through gzip, src/io/persistence.cpp).
# libopenblas-dev is optional: the exact search's dot products (src/bank/blas_products.cpp) run on
# its sgemm, which beats the Eigen products on both AVX-512 and AVX2 CPUs; without it they do not.
include_guard(GLOBAL)
include(CheckCXXCompilerFlag)

macro(dmad_find_dependencies)
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
  find_package(nanoflann REQUIRED)
  # Inside an OpenCV tree, OpenCV's own zlib (3rdparty or system) has set ZLIB_LIBRARIES already.
  if(NOT ZLIB_LIBRARIES)
    find_package(ZLIB REQUIRED)
  endif()
  # libhnswlib-dev (header-only, optional): the approximate SEARCH_HNSW index of src/bank/hnsw_index.cpp
  find_path(DMAD_HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h)
  if(DMAD_HNSWLIB_INCLUDE_DIR)
    message(STATUS "dmad: hnswlib found: MemoryBank::SEARCH_HNSW available")
  else()
    message(STATUS "dmad: hnswlib not found (Debian: libhnswlib-dev): no MemoryBank::SEARCH_HNSW")
  endif()
  option(DMAD_WITH_BLAS "Compute the exact k-NN products with OpenBLAS when it is installed" ON)
  set(DMAD_BLAS_LIBRARIES "")
  if(DMAD_WITH_BLAS)
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS QUIET)
    unset(BLA_VENDOR)
    if(BLAS_FOUND)
      set(DMAD_BLAS_LIBRARIES ${BLAS_LIBRARIES})
      message(STATUS "dmad: exact k-NN products with OpenBLAS (${BLAS_LIBRARIES})")
    else()
      message(STATUS "dmad: OpenBLAS not found (Debian: libopenblas-dev): exact k-NN products with Eigen")
    endif()
  endif()
endmacro()

# Links the BLAS found by dmad_find_dependencies (if any) into the library target.
function(dmad_use_blas target)
  if(DMAD_BLAS_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${DMAD_BLAS_LIBRARIES})
    target_compile_definitions(${target} PRIVATE DMAD_HAVE_BLAS)
  endif()
endfunction()

# Header-only dependencies are attached as include folders, which works both for plain CMake targets
# and for OpenCV's module targets (whose link interface uses the legacy keyword signature).
function(dmad_use_dependencies target)
  get_target_property(_eigen_inc Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(_nanoflann_inc nanoflann::nanoflann INTERFACE_INCLUDE_DIRECTORIES)
  target_include_directories(${target} SYSTEM PRIVATE ${_eigen_inc} ${_nanoflann_inc} ${ZLIB_INCLUDE_DIRS})
  target_compile_definitions(${target} PRIVATE EIGEN_MPL2_ONLY)
  if(DMAD_HNSWLIB_INCLUDE_DIR)
    target_include_directories(${target} SYSTEM PRIVATE ${DMAD_HNSWLIB_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE DMAD_HAVE_HNSWLIB)
  endif()
  get_target_property(_target_dir ${target} SOURCE_DIR)
  dmad_set_kernel_flags("${_target_dir}")
endfunction()

# The k-NN and coreset kernels are compiled three times (src/bank/simd_kernels*.cpp) and chosen at run
# time, so one binary runs everywhere and still uses AVX-512 where the CPU has it. Source
# properties are per directory: dmad_use_dependencies calls this from modules/dmad, where both
# builds create the library.
function(dmad_set_kernel_flags module_dir)
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$"
     OR NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    return()
  endif()
  set(_avx2 -mavx2 -mfma -mf16c)
  set(_avx512 -mavx2 -mfma -mf16c -mavx512f -mavx512dq -mavx512bw -mavx512vl)
  # GCC 12 warns about _mm512_undefined_ps() inside Eigen's AVX-512 code: a known false positive.
  set(_avx512_warnings -Wno-maybe-uninitialized)
  string(REPLACE ";" " " _avx2_str "${_avx2}")
  string(REPLACE ";" " " _avx512_str "${_avx512}")
  check_cxx_compiler_flag("${_avx2_str}" DMAD_COMPILER_HAS_AVX2)
  check_cxx_compiler_flag("${_avx512_str}" DMAD_COMPILER_HAS_AVX512)
  if(DMAD_COMPILER_HAS_AVX2)
    set_source_files_properties("${module_dir}/src/bank/simd_kernels_avx2.cpp" PROPERTIES
      COMPILE_OPTIONS "${_avx2}" COMPILE_DEFINITIONS DMAD_HAVE_AVX2)
  endif()
  if(DMAD_COMPILER_HAS_AVX512)
    set_source_files_properties("${module_dir}/src/bank/simd_kernels_avx512.cpp" PROPERTIES
      COMPILE_OPTIONS "${_avx512};${_avx512_warnings}" COMPILE_DEFINITIONS DMAD_HAVE_AVX512)
  endif()
endfunction()
