/*-------------------------------------------------------------------------
 *
 * valid_text.c
 *		  Text of unknown bytes (what a MySQL server sent: an error message, a
 *		  value, a name) made valid text in the database's encoding, for a
 *		  message or a catalog.
 *
 * A byte that is invalid in the database's encoding and stored in a
 * catalog makes pg_dump's output of that table unrestorable, and one in a
 * message breaks the report that carries it.  Every remote text bound for
 * either goes through EtlPullValidText or EtlPullPrintable.
 *
 * IDENTIFICATION
 *		  src/valid_text.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "etl_pull.h"

/*
 * Append to "buf" the first "len" bytes of "s", whose bytes may be anything
 * (they came from the MySQL server, or hold what it sent), read as text in
 * "encoding", as valid text in the database's encoding: each valid
 * character as it is, but that a character beyond ASCII is written
 * \u{XXXX} when "encoding" (UTF-8) is not the database's (no conversion
 * runs here: this may be called while an error is being reported); each
 * byte that begins no valid character as \xHH, and so a NUL byte, and
 * with "controls" every other control character too.  Stops before "maxlen"
 * bytes are exceeded (the rest replaced by "...").  Returns whether the
 * text was copied unchanged.
 */
static bool
append_valid_text(StringInfo buf, const char *s, size_t len, int encoding,
				  bool controls, size_t maxlen)
{
	int			dbenc = GetDatabaseEncoding();
	size_t		start = buf->len;
	size_t		i = 0;
	bool		same = true;

	while (i < len && (size_t) buf->len - start < maxlen)
	{
		unsigned char c = (unsigned char) s[i];
		int			n;

		if (c < 0x80)
		{
			if (c == '\0' || (controls && (c < 0x20 || c == 0x7f)))
			{
				appendStringInfo(buf, "\\x%02X", c);
				same = false;
			}
			else
				appendStringInfoChar(buf, (char) c);
			i++;
			continue;
		}
		n = pg_encoding_mblen(encoding, s + i);
		if (n <= 1 || i + n > len ||
			pg_encoding_verifymbchar(encoding, s + i, n) != n)
		{
			appendStringInfo(buf, "\\x%02X", c);
			same = false;
			i++;
			continue;
		}
		if (encoding == dbenc)
			appendBinaryStringInfo(buf, s + i, n);
		else if (encoding == PG_UTF8)
		{
			appendStringInfo(buf, "\\u{%04X}",
							 (unsigned int) utf8_to_unicode((const unsigned char *) s + i));
			same = false;
		}
		else
		{
			int			k;

			for (k = 0; k < n; k++)
				appendStringInfo(buf, "\\x%02X", (unsigned char) s[i + k]);
			same = false;
		}
		i += n;
	}
	if (i < len)
	{
		appendStringInfoString(buf, "...");
		same = false;
	}
	return same;
}

/*
 * Text that came from the MySQL server as valid text in the database's
 * encoding, for a catalog (etl_pull.runs, etl_pull.rejects,
 * etl_pull.source_columns) or a message: the first "len" bytes of "s" read
 * in "encoding" (PG_UTF8 for what MySQL sends, the database's for a message
 * built from it), each byte that is not part of a valid character written
 * \xHH (see append_valid_text).  *exact, if given, says whether nothing
 * had to be written otherwise.  Every remote text bound for a catalog or a
 * message goes through here or EtlPullPrintable: a byte that is invalid in
 * the database's encoding stored in a catalog makes pg_dump's output of
 * that table unrestorable.
 */
char *
EtlPullValidText(const char *s, size_t len, int encoding, bool *exact)
{
	StringInfoData buf;
	bool		same;

	initStringInfo(&buf);
	same = append_valid_text(&buf, s, len, encoding, false, SIZE_MAX);
	if (exact)
		*exact = same;
	return buf.data;
}

/*
 * A copy of text from the MySQL server (an error message, a value, a name:
 * UTF-8, the connection's character set, unless it lies) that is safe to
 * put in a PostgreSQL message: cut to about "maxlen" bytes, and every byte
 * that is not part of a valid UTF-8 character, and every control character,
 * shown as \xHH (EtlPullValidText).  The server may be hostile: what it
 * sends must not break the error report that carries it, nor the catalog
 * the report is recorded in.
 */
char *
EtlPullPrintable(const char *text, size_t maxlen)
{
	StringInfoData buf;

	initStringInfo(&buf);
	(void) append_valid_text(&buf, text, strlen(text), PG_UTF8, true, maxlen);
	return buf.data;
}
