/* slots — bounded jobs with a share per uid. See slots.h. */
#include "slots.h"

enum slots_take
slots_take(struct slots *s, uid_t uid, unsigned total, unsigned per_uid)
{
	unsigned i, free_i = SLOTS_MAX;

	if (s->used >= total || s->used >= SLOTS_MAX)
		return SLOTS_FULL;
	for (i = 0; i < SLOTS_MAX; i++) {
		if (s->held[i].n > 0 && s->held[i].uid == uid) {
			if (s->held[i].n >= per_uid)
				return SLOTS_UID_FULL;
			s->held[i].n++;
			s->used++;
			return SLOTS_OK;
		}
		if (s->held[i].n == 0 && free_i == SLOTS_MAX)
			free_i = i;
	}
	if (per_uid == 0 || free_i == SLOTS_MAX)
		return SLOTS_UID_FULL;
	s->held[free_i].uid = uid;
	s->held[free_i].n = 1;
	s->used++;
	return SLOTS_OK;
}

void
slots_put(struct slots *s, uid_t uid)
{
	unsigned i;

	for (i = 0; i < SLOTS_MAX; i++)
		if (s->held[i].n > 0 && s->held[i].uid == uid) {
			s->held[i].n--;
			s->used--;
			return;
		}
}
