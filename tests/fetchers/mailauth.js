// tests/fetchers/mailauth.js: mailauth's MTA-STS module as a sender uses it.
//
//   node mailauth.js PREFIX DOMAIN [MX...]
//
// PREFIX is where mailauth is installed (PREFIX/node_modules/mailauth).
// Resolves _mta-sts.DOMAIN, fetches the policy with getPolicy() and checks
// each MX with validateMx().  Prints key=value lines for tests/fetchers/fetchers.sh:
// status, id, mode, mx (comma-separated), max_age, error (code: message)
// and "validateMx HOST=true|false".
'use strict';

const path = require('node:path');

const [prefix, domain, ...mxs] = process.argv.slice(2);
const { getPolicy, validateMx } = require(path.join(prefix, 'node_modules',
    'mailauth', 'lib', 'mta-sts.js'));

(async () => {
	const { policy, status } = await getPolicy(domain);
	console.log(`status=${status}`);
	console.log(`id=${policy.id}`);
	console.log(`mode=${policy.mode}`);
	console.log(`mx=${(policy.mx || []).join(',')}`);
	console.log(`max_age=${policy.maxAge}`);
	if (policy.error)
		console.log(`error=${policy.error.code || ''}: ` +
		    `${policy.error.message}`);
	for (const mx of mxs)
		console.log(`validateMx ${mx}=${validateMx(mx, policy).valid}`);
})().catch(err => {
	console.log(`exception=${err.code || ''}: ${err.message}`);
	process.exit(1);
});
