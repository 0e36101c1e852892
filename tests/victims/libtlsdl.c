// SPDX-License-Identifier: MIT
/* A library the victim loads with dlopen ("dlopen"): its thread-local
 * variable lives in dynamic TLS, which ovup cannot reach. */
__thread int dl_tls = 3;

int dl_tls_get(void)
{
	return dl_tls;
}
