/* Compiled with -Wall -Wextra -Werror: the umbrella header is self-contained. */
#include <odm/odm.h>

int odm_header_check_dummy (void);
int
odm_header_check_dummy (void)
{
   return ODM_COLLECTION_COUNT;
}
