// SPDX-License-Identifier: MIT
/*
 * tpm.c: the TPM 2.0 side of attestation, through the TSS2 ESAPI (libtss2-esys) and
 * a TCTI chosen at run time by string (libtss2-tctildr): "swtpm:host=H,port=P",
 * "device:/dev/tpmrm0", ... Each rf_tpm_open() is one short session: a swtpm socket
 * serves one connection at a time, so nobody keeps one open.
 *
 * The attestation key is a primary key of the endorsement hierarchy made from a fixed
 * template (restricted ECDSA P-256 / SHA-256 signing key, fixedTPM): the same TPM gives
 * the same key every time, and its private part never leaves the TPM. Making it costs
 * one CreatePrimary per quote (cheap for ECC; a persistent handle would save it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "attest/attest_int.h"

struct rf_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

static int fail(TSS2_RC rc, const char *what, char *why, size_t whylen)
{
	snprintf(why, whylen, "TPM %s: %s", what, Tss2_RC_Decode(rc));
	return -EIO;
}

int rf_tpm_open(const char *tcti, struct rf_tpm **ret, char *why, size_t whylen)
{
	struct rf_tpm *t = calloc(1, sizeof(*t));
	TSS2_RC rc;

	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, whylen, "no TPM answers at '%s' (%s)", tcti, Tss2_RC_Decode(rc));
		free(t);
		return -ENODEV;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, whylen, "no TPM answers at '%s' (%s)", tcti, Tss2_RC_Decode(rc));
		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return -ENODEV;
	}
	*ret = t;
	return 0;
}

void rf_tpm_close(struct rf_tpm *t)
{
	if (!t)
		return;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

int rf_tpm_pcr_reset(struct rf_tpm *t, uint32_t pcr, char *why, size_t whylen)
{
	TSS2_RC rc = Esys_PCR_Reset(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				    ESYS_TR_NONE);

	return rc == TSS2_RC_SUCCESS ? 0 : fail(rc, "PCR_Reset", why, whylen);
}

int rf_tpm_pcr_extend(struct rf_tpm *t, uint32_t pcr, const uint8_t digest[32], char *why,
		      size_t whylen)
{
	TPML_DIGEST_VALUES d = {.count = 1};
	TSS2_RC rc;

	d.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(d.digests[0].digest.sha256, digest, 32);
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &d);
	return rc == TSS2_RC_SUCCESS ? 0 : fail(rc, "PCR_Extend", why, whylen);
}

static void pcr_sel(TPML_PCR_SELECTION *s, uint32_t pcr)
{
	memset(s, 0, sizeof(*s));
	s->count = 1;
	s->pcrSelections[0].hash = TPM2_ALG_SHA256;
	s->pcrSelections[0].sizeofSelect = 3;
	s->pcrSelections[0].pcrSelect[pcr / 8] = (uint8_t)(1u << (pcr % 8));
}

int rf_tpm_pcr_read(struct rf_tpm *t, uint32_t pcr, uint8_t out[32], char *why, size_t whylen)
{
	TPML_PCR_SELECTION sel, *osel = NULL;
	TPML_DIGEST *vals = NULL;
	UINT32 upd;
	TSS2_RC rc;
	int r = 0;

	pcr_sel(&sel, pcr);
	rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &upd, &osel,
			   &vals);
	if (rc != TSS2_RC_SUCCESS)
		return fail(rc, "PCR_Read", why, whylen);
	if (!vals || vals->count != 1 || vals->digests[0].size != 32) {
		snprintf(why, whylen, "TPM PCR_Read: no SHA-256 bank for PCR %u", pcr);
		r = -EIO;
	} else {
		memcpy(out, vals->digests[0].buffer, 32);
	}
	Esys_Free(osel);
	Esys_Free(vals);
	return r;
}

static int make_ak(struct rf_tpm *t, ESYS_TR *h, uint8_t key[65], char *why, size_t whylen)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC pub = {0};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION creation_pcr = {0};
	TPM2B_PUBLIC *out_pub = NULL;
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	TPMS_ECC_POINT *p;
	TSS2_RC rc;
	int r = 0;

	pub.publicArea.type = TPM2_ALG_ECC;
	pub.publicArea.nameAlg = TPM2_ALG_SHA256;
	pub.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
					  TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					  TPMA_OBJECT_SENSITIVEDATAORIGIN |
					  TPMA_OBJECT_USERWITHAUTH;
	pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	pub.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &pub, &outside, &creation_pcr, h, &out_pub,
				&cdata, &chash, &ticket);
	if (rc != TSS2_RC_SUCCESS)
		return fail(rc, "CreatePrimary (attestation key)", why, whylen);
	p = &out_pub->publicArea.unique.ecc;
	if (p->x.size > 32 || p->y.size > 32) {
		snprintf(why, whylen, "TPM attestation key: unexpected point size");
		r = -EIO;
	} else {
		memset(key, 0, 65);
		key[0] = 4;
		memcpy(key + 1 + 32 - p->x.size, p->x.buffer, p->x.size);
		memcpy(key + 33 + 32 - p->y.size, p->y.buffer, p->y.size);
	}
	Esys_Free(out_pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	if (r < 0)
		Esys_FlushContext(t->esys, *h);
	return r;
}

int rf_tpm_quote(struct rf_tpm *t, uint32_t pcr, const uint8_t *nonce, size_t nlen,
		 uint8_t **attest, size_t *attestlen, uint8_t sig[64], uint8_t key[65], char *why,
		 size_t whylen)
{
	TPM2B_DATA q = {0};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *s = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (nlen > sizeof(q.buffer))
		return -EINVAL;
	r = make_ak(t, &ak, key, why, whylen);
	if (r < 0)
		return r;
	q.size = (UINT16)nlen;
	memcpy(q.buffer, nonce, nlen);
	pcr_sel(&sel, pcr);
	rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &q, &scheme, &sel,
			&quoted, &s);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(rc, "Quote", why, whylen);
		goto out;
	}
	if (s->sigAlg != TPM2_ALG_ECDSA || s->signature.ecdsa.signatureR.size > 32 ||
	    s->signature.ecdsa.signatureS.size > 32) {
		snprintf(why, whylen, "TPM Quote: unexpected signature algorithm");
		r = -EIO;
		goto out;
	}
	memset(sig, 0, 64);
	memcpy(sig + 32 - s->signature.ecdsa.signatureR.size, s->signature.ecdsa.signatureR.buffer,
	       s->signature.ecdsa.signatureR.size);
	memcpy(sig + 64 - s->signature.ecdsa.signatureS.size, s->signature.ecdsa.signatureS.buffer,
	       s->signature.ecdsa.signatureS.size);
	*attest = malloc(quoted->size);
	if (!*attest) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*attest, quoted->attestationData, quoted->size);
	*attestlen = quoted->size;
out:
	Esys_Free(quoted);
	Esys_Free(s);
	Esys_FlushContext(t->esys, ak);
	return r;
}
