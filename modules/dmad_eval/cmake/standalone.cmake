# Plain-CMake build of modules/dmad_eval against an installed OpenCV (Debian 12: 4.6).
# Same target names as the in-tree build: opencv_dmad_eval, opencv_test_dmad_eval.
get_filename_component(DMAD_EVAL_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

file(GLOB DMAD_EVAL_SOURCES CONFIGURE_DEPENDS "${DMAD_EVAL_DIR}/src/*.cpp")
file(GLOB_RECURSE DMAD_EVAL_HEADERS CONFIGURE_DEPENDS "${DMAD_EVAL_DIR}/include/*.hpp")
add_library(opencv_dmad_eval SHARED ${DMAD_EVAL_SOURCES} ${DMAD_EVAL_HEADERS})
target_include_directories(opencv_dmad_eval
  PUBLIC  "$<BUILD_INTERFACE:${DMAD_EVAL_DIR}/include>" "$<INSTALL_INTERFACE:include/opencv4>"
  PRIVATE "${DMAD_EVAL_DIR}/src")
target_link_libraries(opencv_dmad_eval PUBLIC opencv_dmad opencv_core opencv_imgproc opencv_imgcodecs)
target_compile_definitions(opencv_dmad_eval PRIVATE CVAPI_EXPORTS)
set_target_properties(opencv_dmad_eval PROPERTIES
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(opencv_dmad_eval PRIVATE -Wall -Wextra -Wno-unused-parameter)
endif()

include(GNUInstallDirs)
install(TARGETS opencv_dmad_eval LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY "${DMAD_EVAL_DIR}/include/" DESTINATION include/opencv4)

if(NOT DEFINED DMAD_BUILD_TESTS OR DMAD_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(Threads REQUIRED)
  file(GLOB DMAD_EVAL_TEST_SOURCES CONFIGURE_DEPENDS "${DMAD_EVAL_DIR}/test/*.cpp")
  add_executable(opencv_test_dmad_eval ${DMAD_EVAL_TEST_SOURCES})
  target_link_libraries(opencv_test_dmad_eval PRIVATE opencv_dmad_eval GTest::gtest Threads::Threads)
  target_include_directories(opencv_test_dmad_eval PRIVATE "${DMAD_EVAL_DIR}/test" "${DMAD_EVAL_DIR}/src")
  target_compile_definitions(opencv_test_dmad_eval PRIVATE DMAD_STANDALONE=1
    "DMAD_SHARED_DIR=\"${DMAD_SHARED_DIR}\""
    "DMAD_TEST_DATA_DIR=\"${DMAD_EVAL_DIR}/test/data\"")
  include(GoogleTest)
  gtest_discover_tests(opencv_test_dmad_eval DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "Accuracy" TIMEOUT 900 SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endif()
