# odm_generate: runs libodm's generator (odmgen) over a project's own collection specs at
# build time and makes a library of the generated code, linked to odm::odm.
#
#   odm_generate (TARGET my_models
#                 SPECS specs/orders.json [more.json ...]
#                 [SET name]          # spec set name: header <name.h>, odm_register_<name> ();
#                                     #   default: TARGET as a C identifier, lowercased
#                 [TYPE STATIC|SHARED|OBJECT]   # default STATIC
#                 [CLI my_odm]        # also build an `odm` command that knows this set
#                 [OUTPUT_DIR dir])   # default ${CMAKE_CURRENT_BINARY_DIR}/<TARGET>-odmgen
#
# Then `#include <my_models.h>` and call `odm_register_my_models (&error)` once at start-up
# so that odm_schemas() / odm_schema_find() (and the CLI) see the set. The output is
# regenerated when a spec or odmgen changes.
function (odm_generate)
  cmake_parse_arguments (PARSE_ARGV 0 ARG "" "TARGET;SET;TYPE;CLI;OUTPUT_DIR" "SPECS")
  if (NOT ARG_TARGET OR NOT ARG_SPECS)
    message (FATAL_ERROR "odm_generate: TARGET and SPECS are required")
  endif ()
  if (ARG_UNPARSED_ARGUMENTS)
    message (FATAL_ERROR "odm_generate: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif ()
  if (NOT ARG_SET)
    string (MAKE_C_IDENTIFIER "${ARG_TARGET}" ARG_SET)
    string (TOLOWER "${ARG_SET}" ARG_SET)
  endif ()
  if (NOT ARG_TYPE)
    set (ARG_TYPE STATIC)
  endif ()
  if (NOT ARG_OUTPUT_DIR)
    set (ARG_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}-odmgen")
  endif ()
  set (specs "")
  set (sources "${ARG_OUTPUT_DIR}/${ARG_SET}.c")
  set (headers "${ARG_OUTPUT_DIR}/${ARG_SET}.h")
  foreach (spec IN LISTS ARG_SPECS)
    get_filename_component (spec "${spec}" ABSOLUTE)
    if (NOT EXISTS "${spec}")
      message (FATAL_ERROR "odm_generate: ${spec}: no such file")
    endif ()
    # The output files are named after the spec's "collection".
    file (READ "${spec}" text)
    if (NOT text MATCHES "\"collection\"[ \t\r\n]*:[ \t\r\n]*\"([^\"]+)\"")
      message (FATAL_ERROR "odm_generate: ${spec}: no \"collection\" key")
    endif ()
    list (APPEND specs "${spec}")
    list (APPEND sources "${ARG_OUTPUT_DIR}/${CMAKE_MATCH_1}.c")
    list (APPEND headers "${ARG_OUTPUT_DIR}/${ARG_SET}/${CMAKE_MATCH_1}.h")
    set_property (DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${spec}")
  endforeach ()
  add_custom_command (
    OUTPUT ${sources} ${headers}
    COMMAND odm::odmgen --set ${ARG_SET} "${ARG_OUTPUT_DIR}" ${specs}
    DEPENDS odm::odmgen ${specs}
    COMMENT "odmgen: spec set ${ARG_SET}"
    VERBATIM)
  add_library (${ARG_TARGET} ${ARG_TYPE} ${sources} ${headers})
  target_include_directories (${ARG_TARGET} PUBLIC "$<BUILD_INTERFACE:${ARG_OUTPUT_DIR}>")
  target_link_libraries (${ARG_TARGET} PUBLIC odm::odm)
  set_target_properties (${ARG_TARGET} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if (ARG_CLI)
    add_executable (${ARG_CLI} "${_ODM_CLI_SOURCE}")
    target_compile_definitions (${ARG_CLI} PRIVATE ODM_CLI_REGISTER=odm_register_${ARG_SET})
    target_link_libraries (${ARG_CLI} PRIVATE ${ARG_TARGET})
  endif ()
endfunction ()
