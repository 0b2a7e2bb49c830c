/* libodm: an ODM-style data layer for MongoDB on libbson and libmongoc.
 * This is the only header to include. */
#ifndef ODM_H
#define ODM_H

#define ODM_INSIDE
#include "odm-macros.h"
#include <odm/odm-version.h>
#include "odm-error.h"
#include "odm-schema.h"
#include "odm-doc.h"
#include "odm-view.h"
#include "odm-rules.h"
#include "odm-hooks.h"
#include "odm-client.h"
#include "odm-analytics.h"
#undef ODM_INSIDE

/* The generated collections (built from specs/ by odmgen). */
#include <odm/odm-collections.h>

#endif /* ODM_H */
