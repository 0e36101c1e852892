// SPDX-License-Identifier: MIT
/*
 * Running one transaction on a target: stop, write every site or none,
 * resume, and retry with a growing delay while a thread is in the way;
 * a switch that stays busy names the thread and where it is.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A switch still busy after its last attempt: who is in the way, where. */
static int busy_error(struct ovup_target *t, const struct ovup_txn *txn, unsigned attempts,
		      const struct ovup_symtab *st)
{
	const struct ovup_sym *s = st ? ovup_symtab_by_addr(st, txn->busy.addr) : NULL;
	char where[256];

	if (s)
		snprintf(where, sizeof(where), "%s+0x%" PRIx64, s->name, txn->busy.addr - s->addr);
	else
		snprintf(where, sizeof(where), "0x%" PRIx64, txn->busy.addr);
	return ovup_err(-EBUSY, "%s: thread %d (%s) %s at %s after %u attempts; try again", t->desc,
			txn->busy.tid, txn->busy.comm,
			txn->busy.unwind_failed ? "has a stack ovup cannot unwind"
			: txn->busy.returns     ? "sleeps in a call that returns into the bytes "
						  "to be changed"
						: "is executing the bytes to be changed",
			where, attempts);
}

/* Runs a transaction with bounded retries while a thread is in the way.
 * st, if given, names the function a busy thread is in. */
int ovup_switch(struct ovup_target *t, struct ovup_txn *txn, unsigned retries,
		const struct ovup_symtab *st)
{
	unsigned attempt, delay = 200;
	int ret, r2;

	for (attempt = 0;; attempt++) {
		memset(&txn->busy, 0, sizeof(txn->busy));
		ret = t->ops->switch_live ? t->ops->switch_live(t, txn) : -EOPNOTSUPP;
		if (ret == -EOPNOTSUPP) {
			ret = t->ops->stop(t);
			if (ret)
				return ret;
			ret = t->ops->pawrite(t, txn);
			r2 = t->ops->resume(t, txn);
			if (!ret && r2)
				ret = r2;
		}
		if (ret != -EBUSY || attempt >= retries || ovup_signalled)
			break; /* busy: nothing was switched, stopping is free */
		ovup_sleep_us(delay);
		delay = OVUP_MIN(delay * 2, 50000u);
	}
	if (ret == -EBUSY && ovup_signalled)
		return ovup_check_signal("nothing was switched");
	/* busy for a reason of the target's own, which it has said */
	if (ret == -EBUSY && !txn->busy.tid && !txn->busy.addr && ovup_err_msg())
		return ret;
	if (ret == -EBUSY)
		return busy_error(t, txn, attempt + 1, st);
	return ret;
}
