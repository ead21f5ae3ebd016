/* "Did you mean": the nearest name by edit distance. */
#include "config.h"

#include <string.h>

#include "policy/suggest.h"

#define MAX_WORD 64

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of neighbours each cost one, since "lokc" is one slip. */
static guint
edit_distance (const char *a, const char *b)
{
  guint d[MAX_WORD + 1][MAX_WORD + 1];
  gsize la = strlen (a), lb = strlen (b);

  if (la > MAX_WORD || lb > MAX_WORD)
    return G_MAXUINT;

  for (gsize i = 0; i <= la; i++)
    d[i][0] = (guint) i;
  for (gsize j = 0; j <= lb; j++)
    d[0][j] = (guint) j;
  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;

        d[i][j] = MIN (MIN (d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = MIN (d[i][j], d[i - 2][j - 2] + 1);
      }
  return d[la][lb];
}

const char *
pd_suggest (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  guint best_distance = G_MAXUINT;
  /* A third of the word, at least one edit: "daily_limt" finds
   * "daily_limit", "xyz" finds nothing. */
  guint allowed = MAX (1, (guint) strlen (word) / 3);

  g_return_val_if_fail (word != NULL && candidates != NULL, NULL);

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      guint d = edit_distance (word, candidates[i]);

      if (d < best_distance)
        best_distance = d, best = candidates[i];
    }
  return best_distance <= allowed ? best : NULL;
}
