// Typed entry points for libcurl's variadic functions, which Swift cannot call directly.
#ifndef XOMIFY_CCURLSHIM_H
#define XOMIFY_CCURLSHIM_H

#include <curl/curl.h>

typedef size_t (*xcurl_data_callback)(char *data, size_t size, size_t count, void *userdata);

CURLcode xcurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode xcurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode xcurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode xcurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode xcurl_easy_setopt_callback(CURL *handle, CURLoption option, xcurl_data_callback value);
CURLcode xcurl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);

CURLcode xcurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode xcurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLcode xcurl_easy_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value);

CURLMcode xcurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
