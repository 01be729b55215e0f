// Jest resolver for the TypeORM 1.x run (jest.typeorm1.config.js): jest resolves test modules itself, not through
// Node's Module._resolveFilename, so it applies the same three rules as the preload hook (redirect.js) here.
'use strict';
const path = require('node:path');
const { TREE, CHECKOUT, toTree, inTree, inCheckout, isRedirectedRequest } = require('./redirect');

if (!TREE)
  throw new Error('jest.typeorm1.config.js needs VALIBLOB_TYPEORM_TREE (run it through scripts/typeorm-line.js)');

module.exports = (request, options) => {
  try {
    return toTree(options.defaultResolver(request, options));
  } catch (error) {
    if (inTree(options.basedir)) return toTree(options.defaultResolver(request, { ...options, basedir: CHECKOUT }));
    if (isRedirectedRequest(request) && inCheckout(options.basedir)) {
      return options.defaultResolver(request, { ...options, basedir: path.dirname(TREE) });
    }
    throw error;
  }
};
