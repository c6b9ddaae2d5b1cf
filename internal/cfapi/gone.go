package cfapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// ConfirmGone reports whether callErr, the error of a call about certificate id,
// proves that the certificate no longer exists. Cloudflare's "Certificate
// not found" (code 1472) proves it. Any other 404 may come from a wrong base
// URL, a proxy or gateway, or one of Cloudflare's routing errors, so the
// account is listed: the certificate is gone only when a complete listing
// succeeds without it, which costs a listing of the whole account. When that
// cannot be shown, ConfirmGone returns false and an
// *UnconfirmedNotFoundError, and the caller must keep the certificate in
// state. Any other callErr comes back unchanged, with false.
func (c *Client) ConfirmGone(ctx context.Context, accountID, id string, callErr error) (bool, error) {
	switch {
	case callErr == nil:
		return false, nil
	case IsCertificateNotFound(callErr):
		return true, nil
	case !IsStatusNotFound(callErr):
		return false, callErr
	}
	unconfirmed := &UnconfirmedNotFoundError{AccountID: accountID, ID: id, Call: callErr}
	listed, err := c.ListAll(ctx, accountID, ListOptions{})
	switch {
	case err != nil:
		unconfirmed.Listing = err
		return false, unconfirmed
	case containsID(listed, id):
		return false, unconfirmed
	}
	tflog.Info(ctx, "A 404 without Cloudflare's 'certificate not found' code; the account's listing confirms the certificate is gone",
		map[string]any{"account_id": accountID, "id": id, "listed": len(listed)})
	return true, nil
}

func containsID(list []Certificate, id string) bool {
	for i := range list {
		if list[i].ID == id {
			return true
		}
	}
	return false
}

// UnconfirmedNotFoundError is a 404 that did not prove a certificate gone:
// it was not Cloudflare's "Certificate not found", and listing the account
// failed (an incomplete listing fails) or still held the certificate. It
// does not unwrap to the 404, so that nothing reads it as an answer about
// the certificate.
type UnconfirmedNotFoundError struct {
	AccountID, ID string
	// Call is the 404 answer of the call about the certificate.
	Call error
	// Listing is why the account could not be listed; nil when it was
	// listed, and held the certificate.
	Listing error
}

func (e *UnconfirmedNotFoundError) Error() string {
	asked := "the request"
	var apiErr *APIError
	if errors.As(e.Call, &apiErr) && apiErr.Request != "" {
		asked = apiErr.Request
	}
	lead := fmt.Sprintf("%s was answered with HTTP 404 (%s), which is not Cloudflare's \"Certificate not found\" "+
		"(code %d), so it does not show that certificate %s is gone", asked, e.Call, CodeCertificateNotFound, e.ID)
	if e.Listing != nil {
		return fmt.Sprintf("%s; listing account %s to check failed too (%s). A wrong base_url, or a proxy or "+
			"gateway in front of the API, answers like this", lead, e.AccountID, e.Listing)
	}
	return fmt.Sprintf("%s, and account %s still lists it", lead, e.AccountID)
}
