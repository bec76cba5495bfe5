# The dashboard's build (web/README.md): npm packages pinned by package-lock.json, bundled by
# esbuild (build.mjs) into static files, then embedded as byte arrays into a generated .cpp
# (embed.cmake) that the server library compiles, so `fastgpu up` serves the dashboard from
# any directory. Included by src/server/CMakeLists.txt.

find_program(FASTGPU_NODE node)
find_program(FASTGPU_NPM npm)
if(NOT FASTGPU_NODE OR NOT FASTGPU_NPM)
  message(FATAL_ERROR
    "Node.js and npm are needed to build the dashboard (web/), and were not found. "
    "Install them with scripts/deps.sh (Debian 12: the nodejs and npm packages).")
endif()
execute_process(COMMAND ${FASTGPU_NODE} --version OUTPUT_VARIABLE _fastgpu_node_version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX REPLACE "^v([0-9]+).*" "\\1" _fastgpu_node_major "${_fastgpu_node_version}")
if(_fastgpu_node_major LESS 18)
  message(FATAL_ERROR "The dashboard (web/) needs Node.js 18 or later; found ${_fastgpu_node_version}. "
                      "See scripts/deps.sh.")
endif()

# fastgpu_dashboard_sources(OUT): adds the commands that build and embed the dashboard and
# sets OUT to the generated .cpp (defines what server/dashboard_assets.h declares).
function(fastgpu_dashboard_sources out)
  set(web ${FASTGPU_SOURCE_DIR}/web)
  set(dist ${CMAKE_CURRENT_BINARY_DIR}/dashboard)
  set(generated ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets_data.cpp)
  # npm ci when node_modules is missing or the lockfile changed (npm writes its own copy of
  # the lockfile into node_modules/.package-lock.json on every install).
  set(installed ${web}/node_modules/.package-lock.json)
  add_custom_command(
    OUTPUT ${installed}
    COMMAND ${FASTGPU_NPM} ci --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${installed}
    DEPENDS ${web}/package.json ${web}/package-lock.json
    WORKING_DIRECTORY ${web}
    COMMENT "Installing the dashboard's npm packages (npm ci in web/)"
    VERBATIM)
  file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web}/src/*)
  add_custom_command(
    OUTPUT ${generated}
    COMMAND ${FASTGPU_NODE} ${web}/build.mjs --outdir ${dist}
    COMMAND ${CMAKE_COMMAND} -DIN_DIR=${dist} -DOUT_FILE=${generated} -P ${web}/embed.cmake
    DEPENDS ${installed} ${web}/build.mjs ${web}/embed.cmake ${web_sources}
    WORKING_DIRECTORY ${web}
    COMMENT "Building the dashboard (web/) and embedding it"
    VERBATIM)
  set(${out} ${generated} PARENT_SCOPE)
endfunction()
