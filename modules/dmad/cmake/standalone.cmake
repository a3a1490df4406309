# Plain-CMake build of modules/dmad against an installed OpenCV (Debian 12: 4.6).
# Same target names as the in-tree build: opencv_dmad, opencv_test_dmad.
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_LIST_DIR OR CMAKE_SOURCE_DIR STREQUAL "${CMAKE_CURRENT_LIST_DIR}/..")
  # configured directly on modules/dmad
  cmake_minimum_required(VERSION 3.16)
  project(opencv_dmad LANGUAGES CXX)
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
file(GLOB_RECURSE DMAD_HEADERS CONFIGURE_DEPENDS "${DMAD_MODULE_DIR}/include/*.hpp")

add_library(opencv_dmad SHARED ${DMAD_SOURCES} ${DMAD_HEADERS})
target_include_directories(opencv_dmad
  PUBLIC  "$<BUILD_INTERFACE:${DMAD_MODULE_DIR}/include>" "$<INSTALL_INTERFACE:include/opencv4>"
  PRIVATE "${DMAD_MODULE_DIR}/src")
target_link_libraries(opencv_dmad PUBLIC opencv_core opencv_imgproc opencv_imgcodecs opencv_dnn)
target_link_libraries(opencv_dmad PRIVATE ${ZLIB_LIBRARIES})
# CVAPI_EXPORTS makes CV_EXPORTS mean visibility("default"); OpenCV's own build sets it for its modules.
target_compile_definitions(opencv_dmad PRIVATE CVAPI_EXPORTS)
set_target_properties(opencv_dmad PROPERTIES
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
dmad_use_dependencies(opencv_dmad)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(opencv_dmad PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
endif()
if(DMAD_HAVE_CUDA)
  dmad_add_cuda_search(opencv_dmad)
endif()

include(GNUInstallDirs)
install(TARGETS opencv_dmad LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY "${DMAD_MODULE_DIR}/include/" DESTINATION include/opencv4)

if(NOT DEFINED DMAD_BUILD_TESTS OR DMAD_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(Threads REQUIRED)
  if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_LIST_DIR OR CMAKE_SOURCE_DIR STREQUAL "${CMAKE_CURRENT_LIST_DIR}/..")
    # configured on modules/dmad alone: the tests render their images and score with dmad_eval
    set(PROJECT_VERSION 0.1.0)
    set(PROJECT_VERSION_MAJOR 0)
    set(PROJECT_VERSION_MINOR 1)
    add_subdirectory("${DMAD_MODULE_DIR}/../dmad_eval" dmad_eval)
  endif()
  file(GLOB DMAD_TEST_SOURCES CONFIGURE_DEPENDS "${DMAD_MODULE_DIR}/test/*.cpp")
  add_executable(opencv_test_dmad ${DMAD_TEST_SOURCES})
  target_link_libraries(opencv_test_dmad PRIVATE opencv_dmad opencv_dmad_eval GTest::gtest Threads::Threads)
  target_include_directories(opencv_test_dmad PRIVATE "${DMAD_MODULE_DIR}/test" "${DMAD_MODULE_DIR}/src")
  get_filename_component(_dmad_backbones "${DMAD_MODULE_DIR}/../../build/backbones" ABSOLUTE)
  target_compile_definitions(opencv_test_dmad PRIVATE DMAD_STANDALONE=1
    "DMAD_SHARED_DIR=\"${DMAD_SHARED_DIR}\""
    "DMAD_TEST_DATA_DIR=\"${DMAD_MODULE_DIR}/test/data\""
    "DMAD_DEFAULT_BACKBONE_DIR=\"${_dmad_backbones}\"")
  dmad_use_dependencies(opencv_test_dmad)
  # One ctest entry per gtest case, so ctest's closing line counts the real tests. Discovery runs
  # just before the tests, not at build time.
  include(GoogleTest)
  gtest_discover_tests(opencv_test_dmad DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "Accuracy" TIMEOUT 900 SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endif()
