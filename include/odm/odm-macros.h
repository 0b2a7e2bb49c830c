/* libodm: shared macros. Include <odm/odm.h>, not this file. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_MACROS_H
#define ODM_MACROS_H

#ifdef __cplusplus
#define ODM_BEGIN_DECLS extern "C" {
#define ODM_END_DECLS }
#else
#define ODM_BEGIN_DECLS
#define ODM_END_DECLS
#endif

/* ODM_API marks the public symbols; everything else in the shared library is hidden. */
#if defined(ODM_STATIC)
#define ODM_API
#elif defined(_WIN32)
#ifdef ODM_COMPILATION
#define ODM_API __declspec(dllexport)
#else
#define ODM_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define ODM_API __attribute__((visibility("default")))
#else
#define ODM_API
#endif

#endif /* ODM_MACROS_H */
