/* SPDX-License-Identifier: MIT */
/*
 * What a change to a target is made of, as both core and the targets speak
 * of it: blocks of memory ovup allocates, the sites where a branch is
 * written, the ranges no thread may run in while they switch, and the
 * transaction that switches them all or none.
 */
#ifndef OVUP_CHANGE_H
#define OVUP_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#define ovup_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define OVUP_SITE_MAX 16

enum ovup_block_kind { OVUP_BLOCK_TEXT = 1, OVUP_BLOCK_DATA = 2 };
enum ovup_prot { OVUP_PROT_READ = 1, OVUP_PROT_READ_EXEC, OVUP_PROT_READ_WRITE };

struct ovup_block {
	uint64_t addr, size;
	enum ovup_block_kind kind;
	enum ovup_prot prot; /* as allocated; 0 if unknown */
	char owner[64];      /* ops->blocks: the patch it was for */
};

/* One compare-and-swap write at a patch site. */
struct ovup_site {
	uint64_t addr; /* where the bytes go */
	uint64_t func; /* entry of the function the site belongs to */
	uint32_t len;
	uint8_t expect[OVUP_SITE_MAX];
	uint8_t write[OVUP_SITE_MAX];
};

/* No thread may be executing inside [start, end) when the sites change. */
struct ovup_range {
	uint64_t start, end;
};

/* Who blocked a switch, for the "busy" message. */
struct ovup_busy {
	int tid; /* the thread, or 0 for memory */
	char comm[32];
	uint64_t addr; /* the address inside the bytes or block */
	int unwind_failed;
	int returns;   /* addr is a return address: the thread
	                                  * sleeps in a call that returns there */
	uint64_t ref;  /* where in memory a pointer to addr lies */
	int unchecked; /* too much memory to search for pointers */
};

/* An object other than the main one that the patch's code or data refers
 * to: the target keeps it from going away while the patch is applied. */
struct ovup_dep {
	uint64_t addr; /* one address inside it (a label resolved there) */
	const char *object;
};

/* A transaction: every site switches, or none does. */
struct ovup_txn {
	int revert;
	const char *name;
	struct ovup_site *sites;
	size_t nsites;
	struct ovup_range *ranges;
	size_t nranges;
	const struct ovup_block *blocks; /* apply: blocks the patch owns */
	size_t nblocks;
	const char *blob;            /* apply: the record, serialized */
	const struct ovup_dep *deps; /* apply: objects the patch refers to */
	size_t ndeps;
	/* out */
	struct ovup_busy busy;
	long failed_site;        /* -1, or the site whose bytes changed */
	long failed_dep;         /* -1, or the dep the target refused */
	uint64_t pause_ns;       /* first thread stopped -> last resumed */
	uint64_t hold_ns;        /* the longest any thread was held before
	                          * the switch (a process's system calls) */
	uint32_t retired;        /* revert: blocks the target keeps until
	                                  * no thread can return into them */
	uint32_t stop_tasks;     /* tasks the stop considered (kernel) */
	uint32_t stop_rechecked; /* of those, walked while stopped */
};

/* Code a revert switched away from while a thread could still return into
 * it, kept and freed by the target itself once unused. */
struct ovup_retired_block {
	uint64_t addr, size;
	char patch[64];        /* the reverted patch it belonged to */
	struct ovup_busy busy; /* the last thread found in it */
};

#endif
