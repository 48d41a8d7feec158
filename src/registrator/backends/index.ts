// Each import registers its scheme's factory. Adding a backend: one file here, one line below.
import './etcd';
import './skydns2';
import './netfilter';
import './consul';
import './consulkv';
import '../../hamesh/backend';
