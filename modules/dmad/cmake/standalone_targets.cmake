# The plain-CMake targets of a dmad module (dmad, dmad_eval), made the way OpenCV's build makes a
# module's: a shared library opencv_<name> from src/, its public include/ folder, and a GTest
# executable opencv_test_<name> from test/ with one ctest entry per test.
include_guard(GLOBAL)
include(GNUInstallDirs)

# dmad_add_module_library(<name> <module dir> SOURCES <files> LINK <public libraries>)
function(dmad_add_module_library name dir)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  set(target opencv_${name})
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS "${dir}/include/*.hpp")
  add_library(${target} SHARED ${ARG_SOURCES} ${_headers})
  target_include_directories(${target}
    PUBLIC  "$<BUILD_INTERFACE:${dir}/include>" "$<INSTALL_INTERFACE:include/opencv4>"
    PRIVATE "${dir}/src")
  target_link_libraries(${target} PUBLIC ${ARG_LINK})
  # CVAPI_EXPORTS makes CV_EXPORTS mean visibility("default"); OpenCV's own build sets it for its modules.
  target_compile_definitions(${target} PRIVATE CVAPI_EXPORTS)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY "${dir}/include/" DESTINATION include/opencv4)
endfunction()

# dmad_add_module_tests(<name> <module dir> LINK <libraries> DEFINITIONS <extra definitions>)
function(dmad_add_module_tests name dir)
  cmake_parse_arguments(ARG "" "" "LINK;DEFINITIONS" ${ARGN})
  find_package(GTest REQUIRED)
  find_package(Threads REQUIRED)
  set(target opencv_test_${name})
  file(GLOB _sources CONFIGURE_DEPENDS "${dir}/test/*.cpp")
  add_executable(${target} ${_sources})
  target_link_libraries(${target} PRIVATE ${ARG_LINK} GTest::gtest Threads::Threads)
  target_include_directories(${target} PRIVATE "${dir}/test" "${dir}/src")
  target_compile_definitions(${target} PRIVATE DMAD_STANDALONE=1
    "DMAD_SHARED_DIR=\"${DMAD_SHARED_DIR}\"" "DMAD_TEST_DATA_DIR=\"${dir}/test/data\"" ${ARG_DEFINITIONS})
  # One ctest entry per gtest case, so ctest's closing line counts the real tests. Discovery runs
  # just before the tests, not at build time.
  include(GoogleTest)
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "Accuracy" TIMEOUT 900 SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
