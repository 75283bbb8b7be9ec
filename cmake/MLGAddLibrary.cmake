# mlg_add_library(name sources...): a static library of the public API, with
# include directories that work in the build tree and once installed, added
# to the MLGTargets export set that `cmake --install` writes for embedders.
function(mlg_add_library name)
  add_library(${name} ${ARGN})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${name})
  install(TARGETS ${name} EXPORT MLGTargets
    ARCHIVE DESTINATION lib
    LIBRARY DESTINATION lib
    INCLUDES DESTINATION include)
endfunction()
