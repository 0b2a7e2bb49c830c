# docs/analytics.md is the output of `odm analytics docs`: fails when the specs changed
# and the page was not regenerated (`./build/odm analytics docs > docs/analytics.md`).
execute_process (COMMAND "${ODM}" analytics docs OUTPUT_VARIABLE now RESULT_VARIABLE rc)
if (NOT rc EQUAL 0)
  message (FATAL_ERROR "odm analytics docs failed: ${rc}")
endif ()
file (READ "${DOC}" was)
if (NOT now STREQUAL was)
  message (FATAL_ERROR "${DOC} is stale: run `odm analytics docs > docs/analytics.md`")
endif ()
