/*
 * error.c: BearSSL's errors and TLS alerts in words.  See internal.h.
 */
#include <stdio.h>

#include <bearssl.h>

#include "tls/internal.h"

/*
 * What each error means, from each end: the server's log names the
 * client, the tool's messages name the server.  NULL: that end says
 * what the other does.
 */
static const struct {
	int		 err;
	const char	*server;
	const char	*client;
} errors[] = {
	{ BR_ERR_UNSUPPORTED_VERSION, "client does not support TLS 1.2",
	  "server does not answer in TLS 1.2 (not a TLS server?)" },
	{ BR_ERR_BAD_CIPHER_SUITE, "no cipher suite in common",
	  "server chose a cipher suite not offered" },
	{ BR_ERR_BAD_VERSION, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_BAD_LENGTH, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_TOO_LARGE, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_BAD_HANDSHAKE, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_UNEXPECTED, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_UNKNOWN_TYPE, "malformed TLS from client",
	  "malformed TLS from the server (not a TLS server?)" },
	{ BR_ERR_BAD_SNI, "malformed server name", NULL },
	{ BR_ERR_BAD_MAC, "record MAC check failed", NULL },
	{ BR_ERR_NO_RANDOM, "no random source", NULL },
	{ BR_ERR_IO, "I/O error", NULL },
	{ BR_ERR_X509_NOT_TRUSTED, NULL,
	  "certificate not trusted: no chain to a trusted CA" },
	{ BR_ERR_X509_EXPIRED, NULL,
	  "certificate expired (or not yet valid)" },
};

/* TLS alert descriptions (RFC 5246 section 7.2). */
static const struct {
	int		 alert;
	const char	*name;
} alerts[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 22, "record_overflow" },
	{ 40, "handshake_failure" },
	{ 42, "bad_certificate" },
	{ 47, "illegal_parameter" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 110, "unsupported_extension" },
	{ 112, "unrecognized_name" },
};

/* see internal.h */
const char *
tls_error_text(int err, int client)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return client && errors[i].client != NULL ?
			    errors[i].client : errors[i].server != NULL ?
			    errors[i].server : errors[i].client;
	return NULL;
}

/* see internal.h */
const char *
tls_alert_name(int alert)
{
	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].alert == alert)
			return alerts[i].name;
	return NULL;
}

/* see internal.h */
const char *
tls_alert_text(int err, const char *peer, char *buf, size_t bufsz)
{
	const char	*who, *name;
	int		 alert;

	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		alert = err - BR_ERR_SEND_FATAL_ALERT;
		who = "sent";
	} else if (err >= BR_ERR_RECV_FATAL_ALERT) {
		alert = err - BR_ERR_RECV_FATAL_ALERT;
		who = peer;
	} else
		return NULL;
	if ((name = tls_alert_name(alert)) != NULL)
		snprintf(buf, bufsz, "%s%s alert %s", who, who == peer ?
		    " sent" : "", name);
	else
		snprintf(buf, bufsz, "%s%s alert %d", who, who == peer ?
		    " sent" : "", alert);
	return buf;
}
