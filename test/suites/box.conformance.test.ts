import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';

describeConformance('box');
describeTcpConformance('box');
