#!/bin/sh
# certs/mkcert.sh: a local development CA and certificates, with openssl.
#
#   sh certs/mkcert.sh DIR ca
#	makes DIR/ca.pem and DIR/ca.key (once; kept if present)
#   sh certs/mkcert.sh DIR cert NAME TYPE DAYS HOST...
#	makes DIR/NAME.pem (leaf then CA chain) and DIR/NAME.key for the
#	HOSTs (subjectAltName dNSName), signed by DIR's CA.  TYPE is
#	ec256, ec384, rsa2048, rsa3072 or rsa4096; DAYS may be negative
#	(already expired) for tests.
#
# Never for production: use certbot or lego (see certs/README.md).
set -eu
dir=$1
what=$2
shift 2
mkdir -p "$dir"

case $what in
ca)
	[ -f "$dir/ca.pem" ] && [ -f "$dir/ca.key" ] && exit 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
	    -subj "/CN=mta-stsd development CA" -out "$dir/ca.pem" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	;;
cert)
	name=$1 type=$2 days=$3
	shift 3
	key=$dir/$name.key
	case $type in
	ec256) openssl ecparam -name prime256v1 -genkey -noout -out "$key" ;;
	ec384) openssl ecparam -name secp384r1 -genkey -noout -out "$key" ;;
	rsa*) openssl genrsa -traditional -out "$key" "${type#rsa}" 2>/dev/null ;;
	*) echo "mkcert: unknown key type $type" >&2; exit 2 ;;
	esac
	san=
	for h in "$@"; do san="${san:+$san,}DNS:$h"; done
	ext=$(mktemp)
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$ext"
	csr=$(mktemp)
	openssl req -new -key "$key" -subj "/CN=$1" -out "$csr" 2>/dev/null
	if [ "$days" -lt 0 ]; then
		# Already expired: from 30 days ago until -DAYS days ago.
		start=$(date -u -d "30 days ago" +%Y%m%d%H%M%SZ)
		end=$(date -u -d "${days#-} days ago" +%Y%m%d%H%M%SZ)
	else
		start=$(date -u -d "1 hour ago" +%Y%m%d%H%M%SZ)
		end=$(date -u -d "$days days" +%Y%m%d%H%M%SZ)
	fi
	db=$(mktemp -d)
	: >"$db/index.txt"
	cat >"$db/ca.cnf" <<EOC
[ca]
default_ca = dev
[dev]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOC
	openssl ca -batch -config "$db/ca.cnf" -cert "$dir/ca.pem" \
	    -keyfile "$dir/ca.key" -in "$csr" -out "$dir/$name.crt" -notext \
	    -startdate "$start" -enddate "$end" -extfile "$ext" 2>"$db/err" ||
	    { cat "$db/err" >&2; exit 1; }
	rm -rf "$db"
	cat "$dir/$name.crt" "$dir/ca.pem" >"$dir/$name.pem"
	rm -f "$csr" "$ext" "$dir/$name.crt"
	;;
*)
	echo "usage: mkcert.sh DIR ca | DIR cert NAME TYPE DAYS HOST..." >&2
	exit 2
	;;
esac
