# Plain-CMake build of modules/dmad against an installed OpenCV (Debian 12: 4.6).
# Same target names as the in-tree build: opencv_dmad, opencv_test_dmad.
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_LIST_DIR OR CMAKE_SOURCE_DIR STREQUAL "${CMAKE_CURRENT_LIST_DIR}/..")
  # configured directly on modules/dmad
  cmake_minimum_required(VERSION 3.16)
  project(opencv_dmad VERSION 0.1.0 LANGUAGES CXX)
  set(CMAKE_CXX_STANDARD 17)
  find_package(OpenCV 4.6 REQUIRED COMPONENTS core imgproc imgcodecs dnn)
  enable_testing()
endif()

get_filename_component(DMAD_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
include("${DMAD_MODULE_DIR}/cmake/dependencies.cmake")
dmad_find_dependencies()
include("${DMAD_MODULE_DIR}/cmake/cuda.cmake")
if(NOT DEFINED DMAD_HAVE_CUDA)  # not yet done by the top-level CMakeLists
  dmad_detect_cuda()
endif()

file(GLOB_RECURSE DMAD_SOURCES CONFIGURE_DEPENDS "${DMAD_MODULE_DIR}/src/*.cpp")
# the CUDA search or its stub, never both
list(FILTER DMAD_SOURCES EXCLUDE REGEX "/src/bank/cuda/")
if(DMAD_HAVE_CUDA)
  list(APPEND DMAD_SOURCES "${DMAD_MODULE_DIR}/src/bank/cuda/knn_search_cuda.cu")
else()
  list(APPEND DMAD_SOURCES "${DMAD_MODULE_DIR}/src/bank/cuda/knn_search_cuda_stub.cpp")
endif()
include("${DMAD_MODULE_DIR}/cmake/standalone_targets.cmake")
dmad_add_module_library(dmad "${DMAD_MODULE_DIR}" SOURCES ${DMAD_SOURCES}
                        LINK opencv_core opencv_imgproc opencv_imgcodecs opencv_dnn)
target_link_libraries(opencv_dmad PRIVATE ${ZLIB_LIBRARIES})
dmad_use_dependencies(opencv_dmad)
dmad_use_blas(opencv_dmad)
if(DMAD_HAVE_CUDA)
  dmad_add_cuda_search(opencv_dmad)
endif()

if(NOT DEFINED DMAD_BUILD_TESTS OR DMAD_BUILD_TESTS)
  if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_LIST_DIR OR CMAKE_SOURCE_DIR STREQUAL "${CMAKE_CURRENT_LIST_DIR}/..")
    # configured on modules/dmad alone: the tests render their images and score with dmad_eval
    add_subdirectory("${DMAD_MODULE_DIR}/../dmad_eval" dmad_eval)
  endif()
  get_filename_component(_dmad_backbones "${DMAD_MODULE_DIR}/../../build/backbones" ABSOLUTE)
  dmad_add_module_tests(dmad "${DMAD_MODULE_DIR}" LINK opencv_dmad opencv_dmad_eval
                        DEFINITIONS "DMAD_DEFAULT_BACKBONE_DIR=\"${_dmad_backbones}\"")
  dmad_use_dependencies(opencv_test_dmad)
  # zlib: the damage tests inflate model files as the loader does
  target_link_libraries(opencv_test_dmad PRIVATE ${ZLIB_LIBRARIES})
endif()
